"""Staff announcements (issue 5): the durable queue, the paced sender, the Telegram send.

* :mod:`bot.broadcast.store` - announcements, reference codes, bulk enqueue, inactive
  recipients, cancel;
* :mod:`bot.broadcast.pacer` - Telegram's limits on the client side (token bucket overall,
  minimum interval per chat, a pause for 429 ``retry_after``);
* :mod:`bot.broadcast.sender` - claims queued rows, sends, records each outcome, resumes
  after a restart without sending anyone a second copy;
* :mod:`bot.broadcast.telegram` - the send over a Bot API connection pool of its own;
* :mod:`bot.broadcast.compose` - the staff's /umumkan dialogue (channel-neutral);
* :mod:`bot.broadcast.service` - runs due announcements one after another inside
  ``loket run`` (scheduled ones at their time, interrupted ones resumed at start-up);
* :mod:`bot.broadcast.verify` - the citizens' hoax check by reference code or forward.
"""
