"""Free-text understanding for Loket: normalise chat text and match it to intents.

Pure Python over plain data; nothing here knows about Telegram or the conversation engine.
"""

from bot.nlu.matcher import IntentNLU, Matcher, MatchResult, parse_nlu_file
from bot.nlu.normalize import normalize

__all__ = ["IntentNLU", "MatchResult", "Matcher", "normalize", "parse_nlu_file"]
