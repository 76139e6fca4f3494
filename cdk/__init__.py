"""AWS CDK app for the mail service: one stack per configured region."""
