"""One module per subcommand: `run(args, ctx) -> exit code`. Printing happens here, nowhere below."""
