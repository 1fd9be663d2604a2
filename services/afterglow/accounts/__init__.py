"""Dashboard accounts: passwords, roles and clinic scope, sessions (docs/developers.md,
"Accounts and sessions")."""
