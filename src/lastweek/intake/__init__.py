"""The email channel. Parsing (`parse.parse_message`) is pure: bytes in, a `ParsedMessage` out, no Django."""
