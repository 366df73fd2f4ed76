"""Accounts: users and roles, companies and candidates, tokens and sign-in."""
