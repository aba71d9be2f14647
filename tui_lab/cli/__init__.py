"""The headless command line: entry point, arguments, exit codes, console output, one module per job."""
