"""The message pipeline: inbound (verify -> dedupe -> store -> debounce -> turn) and outbound sends."""
