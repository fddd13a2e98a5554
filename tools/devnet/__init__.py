"""Arbiter's devnet: a local EVM chain (eth-tester / py-evm) behind standard Ethereum JSON-RPC
over HTTP and WebSocket, with Flashbots-style bundles, control methods and fault injection."""
