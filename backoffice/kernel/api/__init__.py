"""What every app's API builds on: clients and their tokens, authentication, scopes, throttling, one error format."""
