"""Staff announcements (issue 5): the durable queue, the paced sender, the Telegram send.

* :mod:`bot.broadcast.store` - announcements, reference codes, bulk enqueue, inactive
  recipients, cancel;
* :mod:`bot.broadcast.pacer` - Telegram's limits on the client side (token bucket overall,
  minimum interval per chat, a pause for 429 ``retry_after``);
* :mod:`bot.broadcast.sender` - claims queued rows, sends, records each outcome, resumes
  after a restart without sending anyone a second copy;
* :mod:`bot.broadcast.telegram` - the send over a Bot API connection pool of its own.
"""
