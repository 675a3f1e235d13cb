"""What validate_deploy.py checks beyond schemas, as plain functions on parsed files."""
