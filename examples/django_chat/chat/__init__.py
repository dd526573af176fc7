"""The example's chat app: messages, consumers and the broadcasting view."""
