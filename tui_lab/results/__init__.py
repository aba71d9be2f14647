"""What a job leaves behind: result tables, their files, experiment.json, checks, report.md."""
