"""Deploy controllers: Argo CD (client, the pure wait decision, the wait loop)."""
