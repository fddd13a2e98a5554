"""A Solana cluster stand-in for tests and the lab: a ledger executing System, ComputeBudget, SPL
Token, Associated Token Account and a constant-product pool program (`bank`), served over JSON-RPC,
WebSocket subscriptions and a Jito block engine (`server`)."""
