# The daily sales summary and the view_reports permission come with the analytics issue.
