"""Checkov custom checks for our CloudFormation templates (loaded via --external-checks-dir)."""
