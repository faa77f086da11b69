"""WhatsApp channels: one adapter per provider behind runtime.channels.base.ChannelAdapter."""
