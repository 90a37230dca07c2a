"""One module per subcommand, each exporting `command` (a click.Command); see updater.cli.COMMANDS."""
