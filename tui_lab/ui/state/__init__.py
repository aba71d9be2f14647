"""What the views show, with no Textual in it: drafts under edit and the runs' histories."""
