"""The conversation engine: one inbound event and the state in, new state and replies out.

It knows nothing of Telegram or of the database. Integration actions are called by name
through the registry; what must change outside the conversation (the citizen's language,
a recorded complaint, erasing the citizen's data) is returned as ``Effect`` values that the
caller applies in the same transaction that stores the new state.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz

from bot.booking.hook import OFFER_LABEL, QUEUE_STEP, queue_offer
from bot.engine.messages import Button, Inbound, Outbound
from bot.engine.render import Renderer, pick
from bot.engine.state import ConversationState
from bot.flows.model import WAITING_TYPES, FlowSet, Option, Step
from bot.i18n import DEFAULT_LOCALE, N_, SUPPORTED_LOCALES
from bot.nlu.entities import PlaceIndex
from bot.nlu.matcher import Matcher
from bot.nlu.normalize import normalize
from bot.nlu.understand import Understanding, Understood
from bot.registry import ActionCall, ActionResult, Registry

logger = logging.getLogger(__name__)

MENU_INTENT = "umum.menu"
EMERGENCY_INTENT = "umum.darurat"
# Answers that are never offered as a "which one do you mean?" choice: a close call with
# "thanks" or "emergency numbers" means the message was not understood, not that the
# citizen may have meant to say thank you (emergencies are caught by their words, below).
NOT_A_CHOICE = frozenset({EMERGENCY_INTENT, "umum.terima_kasih"})
# Words that make a message an emergency whatever else it says (issue 13): answered with the
# emergency numbers before anything else, even in the middle of another flow.
_EMERGENCY = re.compile(
    r"\b(?:kejang\w*|pendarahan|perdarahan|ambulan|ambulans|ambulance|pingsan|"
    r"(?:tidak|tdk|tra|tak) sadar(?:kan diri)?|darurat|gawat|emergency|seizure|bleeding|"
    r"unconscious|sesak napas|tenggelam)\b",
    re.IGNORECASE,
)
# "I don't know" in the registers citizens write in (normalised text: lower case, no
# punctuation), answered at an input step with where to find the value (issue 13).
_DONT_KNOW = re.compile(
    r"\b(?:(?:tidak|tdk|tak|ga|gak|nggak|ngga|enggak|tra|trada|sa tra|belum|blm|gk)\s*"
    r"(?:tahu|tau|taw|tw|ingat|inget|punya|pu)|lupa|dont know|don t know|do not know|"
    r"no idea|not sure|i forgot|forgot)\b"
)
OFFICER_STEP = "umum:petugas"
# Messages not understood in a row before the officer is offered with the apology (issue 15).
MISSES_BEFORE_OFFICER = 2
_MISSES = "_not_understood"
# "Bukan semuanya" under the "which one do you mean?" buttons (issue 13): the citizen says the
# message was none of the services offered, so it is recorded for admins like any message not
# understood. The text waits in the conversation's context (under this key) only while the
# choice is open: picking a service resets the context, the next free text drops it.
NONE_OF_THESE = "u:none"
# A question typed at an input step fits in a few sentences; longer text is meant as the
# answer (a complaint over the length limit) and gets the validator's message, not a switch.
_SWITCH_MAX_CHARS = 300
_CHOICE_TEXT = "_choice_text"
STALE_BUTTON = N_(
    "Tombol itu sudah tidak berlaku. Silakan pilih dari pesan terakhir, atau buka menu."
)
DEFAULT_TIMEOUT = dt.timedelta(minutes=30)
SAMPLE_DATA = N_(
    "Contoh data (sandbox): jadwal, status dan nomor di atas dibuat untuk uji coba, bukan data "
    "asli OPD."
)
CARD_KEY = "_card"  # context: the service card whose section buttons are shown
MAX_STEPS_PER_TURN = 40  # a loop in a flow must not hang the bot
MAX_TEXT_CHARS = 4000  # longer messages are cut before matching; nobody is refused for length
NAV_MENU, NAV_BACK, NAV_CANCEL = "n:menu", "n:back", "n:cancel"
NAV_WORDS = {
    "menu": NAV_MENU,
    "menu utama": NAV_MENU,
    "main menu": NAV_MENU,
    "mulai": NAV_MENU,
    "kembali": NAV_BACK,
    "back": NAV_BACK,
    "batal": NAV_CANCEL,
    "cancel": NAV_CANCEL,
    "batalkan": NAV_CANCEL,
}
COMMAND_INTENTS = {
    "menu": MENU_INTENT,
    "bantuan": MENU_INTENT,
    "help": MENU_INTENT,
    "bahasa": "umum.bahasa",
    "language": "umum.bahasa",
    "hapusdata": "umum.hapus_data",
    "langganan": "umum.langganan",
}
# Commands that start an intent at another step than its start: (intent, step of its flow).
# /berhenti is a command (and a button), not an NLU intent: free text never unsubscribes.
COMMAND_STEPS = {
    "berhenti": ("umum.langganan", "umum:berhenti"),
}
DEEP_LINK_ALIASES = {
    "status": "disdukcapil.status_permohonan",
    "pbb": "bapenda.pbb_tagihan",
    "ak1": "disnakertrans.status_ak1",
    "pengaduan": "umum.pengaduan",
}


@dataclass(frozen=True, slots=True)
class Effect:
    """Something outside the conversation the caller must do (in the same transaction)."""

    kind: (
        str  # set_locale | erase_user_data | save_subscription | stop_subscription
        # | record_request | record_unmatched
    )
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Turn:
    """The result of handling one event."""

    state: ConversationState
    messages: list[Outbound] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    transitions: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)
    expired: bool = False


class Engine:
    """Runs flows. One instance per published flow set; cheap to build, immutable after."""

    def __init__(
        self,
        flows: FlowSet,
        registry: Registry,
        matchers: Mapping[str, Matcher],
        renderer: Renderer,
        *,
        timeout: dt.timedelta = DEFAULT_TIMEOUT,
        reference_factory: Callable[[], str] | None = None,
    ) -> None:
        self.flows = flows
        self.registry = registry
        self.matchers = matchers
        self.renderer = renderer
        self.timeout = timeout
        self._new_reference = reference_factory or _new_reference
        # The intent whose start step this is: a citizen who reaches "KTP-el baru" through the
        # menu buttons is asking about it as much as one who typed the question.
        self.intent_at: dict[str, str] = {}
        for intent in flows.intents.values():
            self.intent_at.setdefault(intent.start, intent.id)
        districts = getattr(renderer.region, "districts", ())
        self.understanding = Understanding(
            matchers,
            places=PlaceIndex.from_districts(
                (d.code, d.name, d.aliases, d.spoken_villages()) for d in districts
            ),
            default_locale=DEFAULT_LOCALE,
        )

    # -- entry point ---------------------------------------------------------------------

    async def handle(
        self, state: ConversationState, event: Inbound, *, now: dt.datetime, user_id: str
    ) -> Turn:
        turn = _TurnBuilder(self, state, now, user_id)
        if (
            state.expires_at is not None
            and now >= state.expires_at
            and (state.step or state.context)
        ):
            waiting = state.step is not None
            state.reset()
            turn.expired = True
            if waiting:  # only a question left unanswered needs explaining; a finished flow
                # (a complaint sent, a status shown) just forgets its values quietly
                turn.say(
                    self._t(
                        state,
                        N_(
                            "Percakapan sebelumnya sudah berakhir karena tidak ada balasan selama "
                            "{minutes} menit. Kita mulai lagi dari awal."
                        ),
                        minutes=int(self.timeout.total_seconds() // 60),
                    )
                )
            turn.log("expired", {"waiting": waiting})
        if state.step is not None and state.step not in self.flows.steps:
            # The flow was changed under this conversation and its step is gone: restart safely.
            state.reset()
            turn.say(
                self._t(state, N_("Layanan ini baru saja diperbarui. Kita mulai lagi dari menu."))
            )
        state.flow_version = self.flows.version
        await turn.dispatch(event)
        state.expires_at = now + self.timeout
        turn.finish()
        if turn.saved_locale is not None:  # answered in the message's language only
            state.locale = turn.saved_locale
        return turn.result()

    # -- helpers used by the builder -------------------------------------------------------

    def _t(self, state: ConversationState, message: str, **params: Any) -> str:
        return self.renderer.t(state.locale, message, **params)

    def understand(self, text: str, locale: str) -> Understood:
        """The message's language, values and service (bot.nlu.understand)."""
        return self.understanding.understand(text, locale)

    def match(self, text: str, locale: str) -> tuple[str, str | None, list[tuple[str, float]]]:
        """("confident"|"ambiguous"|"none", intent, alternatives): the message's own language
        first, then the citizen's, then Indonesian, which every citizen's chat mixes in."""
        result = self.understand(text, locale)
        if result.kind == "none":
            return "none", None, []
        return result.kind, result.intent, list(result.alternatives)

    def is_emergency(self, text: str) -> bool:
        """Whether a message is about an emergency (and the flows can answer one)."""
        if EMERGENCY_INTENT not in self.flows.intents:
            return False
        return bool(_EMERGENCY.search(text[:600]))

    def deep_link_intent(self, argument: str) -> str | None:
        argument = argument.strip().lower()
        if not argument:
            return None
        if argument in self.flows.intents:
            return argument
        if argument in DEEP_LINK_ALIASES and DEEP_LINK_ALIASES[argument] in self.flows.intents:
            return DEEP_LINK_ALIASES[argument]
        suffix = [i for i in self.flows.intents if i.endswith("." + argument)]
        return suffix[0] if len(suffix) == 1 else None


CONTEXT_OPTIONS = "context."  # options_from: context.<name>, a list an action saved


def _context_options(context: Mapping[str, Any], source: str) -> list[tuple[str, dict[str, Any]]]:
    """A choice's options from a list an action left in the context (``[{label, value,
    set}]``): dates with free queue slots change with every booking, so no flow can list
    them. Anything malformed is skipped rather than shown."""
    value: Any = context
    for part in source.removeprefix(CONTEXT_OPTIONS).split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    options = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, Mapping) and isinstance(item.get("label"), str):
            extra = item.get("set")
            options.append(
                (
                    item["label"],
                    {
                        "label": item["label"],
                        "value": str(item.get("value", "")),
                        "set": dict(extra) if isinstance(extra, Mapping) else {},
                    },
                )
            )
    return options


def _new_reference() -> str:
    """A short reference a citizen can read out on the phone: no 0/O or 1/I confusion."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "LKT-" + "".join(secrets.choice(alphabet) for _ in range(6))


class _TurnBuilder:
    """The work of one turn: accumulates replies, effects and transitions."""

    def __init__(
        self, engine: Engine, state: ConversationState, now: dt.datetime, user_id: str
    ) -> None:
        self.engine = engine
        self.flows = engine.flows
        self.render = engine.renderer
        self.state = state
        self.now = now
        self.user_id = user_id
        self.messages: list[Outbound] = []
        self.effects: list[Effect] = []
        self.transitions: list[tuple[str, Mapping[str, Any]]] = []
        self.expired = False
        self.buttons: list[tuple[Button, ...]] = []
        self.erased = False
        self.queue_button: Button | None = None  # "Ambil nomor antrean" (bot/booking/hook.py)
        # Values found in the message that started an intent; an input step declaring one
        # of them as its ``entity`` is filled without asking (issue 13).
        self.entities: dict[str, str] = {}
        # The citizen's saved language while this turn answers in the message's own one.
        self.saved_locale: str | None = None
        self.card_shown = False  # a service card was rendered in this turn
        self.sample_shown = False  # an answer of this turn used the sandbox's example data

    # -- output --------------------------------------------------------------------------

    def t(self, message: str, **params: Any) -> str:
        return self.engine._t(self.state, message, **params)

    def say(self, text: str, title: str | None = None) -> None:
        if text.strip() or title:
            self.messages.append(
                Outbound(text=text.strip() or (title or ""), title=title if text.strip() else None)
            )

    def log(self, kind: str, detail: Mapping[str, Any]) -> None:
        self.transitions.append((kind, dict(detail)))

    def result(self) -> Turn:
        return Turn(self.state, self.messages, self.effects, self.transitions, self.expired)

    def finish(self) -> None:
        """Attaches the buttons to the last message and remembers what was offered."""
        if not self.messages:
            self.say(self.t(N_("Silakan pilih dari menu.")))
        if self.state.step is None and not self.buttons:
            self.buttons = [self._nav_row(back=False, cancel=False)]
        last = self.messages[-1]
        self.messages[-1] = Outbound(text=last.text, title=last.title, buttons=tuple(self.buttons))
        self.state.offered = [b.payload for row in self.buttons for b in row]

    def _nav_row(self, *, back: bool, cancel: bool) -> tuple[Button, ...]:
        row = []
        if back:
            row.append(Button(self.t(N_("Kembali")), NAV_BACK))
        row.append(Button(self.t(N_("Menu utama")), NAV_MENU))
        if cancel:
            row.append(Button(self.t(N_("Batal")), NAV_CANCEL))
        return tuple(row)

    # -- dispatch --------------------------------------------------------------------------

    async def dispatch(self, event: Inbound) -> None:
        if event.kind == "unsupported":
            self.say(
                self.t(
                    N_(
                        "Maaf, saya hanya bisa membaca pesan teks. Silakan ketik pertanyaan Anda, "
                        'misalnya "syarat KTP baru".'
                    )
                )
            )
            await self._reprompt()
            return
        if event.kind == "command":
            await self._command(_clean(event.command).lower(), _clean(event.argument))
            return
        if event.kind == "button":
            await self._button(event.payload)
            return
        text = _clean(event.text)
        if not text:
            self.say(
                self.t(
                    N_(
                        "Pesan Anda kosong. Silakan ketik pertanyaan Anda dengan huruf, misalnya "
                        '"cara membuat akta kelahiran".'
                    )
                )
            )
            await self._reprompt()
            return
        if self.engine.is_emergency(text):
            await self._emergency()
            return
        nav = NAV_WORDS.get(normalize(text[:40]).strip())
        if nav:
            await self._nav(nav)
            return
        step = self._waiting_step()
        if step is not None and step.type == "input":
            await self._answer_input(step, text)
        elif step is not None and step.type == "choice":
            await self._answer_choice_text(step, text)
        else:
            await self._free_text(text)

    def _waiting_step(self) -> Step | None:
        return self.flows.steps.get(self.state.step) if self.state.step else None

    async def _command(self, command: str, argument: str) -> None:
        if command == "start":
            intent = self.engine.deep_link_intent(argument)
            await self._start_intent(intent or MENU_INTENT, via="deep_link" if intent else "start")
        elif command == "batal":
            await self._nav(NAV_CANCEL)
        elif command in COMMAND_INTENTS and COMMAND_INTENTS[command] in self.flows.intents:
            await self._start_intent(COMMAND_INTENTS[command], via="command")
        elif command in COMMAND_STEPS and COMMAND_STEPS[command][0] in self.flows.intents:
            intent_id, step = COMMAND_STEPS[command]
            await self._start_intent(intent_id, via="command", step=step)
        else:
            await self._not_understood(f"/{command}", question=False)

    async def _nav(self, nav: str) -> None:
        self.log("nav", {"action": nav, "from": self.state.step})
        if nav == NAV_CANCEL:
            was_busy = self.state.step is not None
            self.state.reset()
            self.say(
                self.t(N_("Baik, dibatalkan."))
                if was_busy
                else self.t(N_("Tidak ada yang perlu dibatalkan."))
            )
            return
        if nav == NAV_BACK and self.state.history:
            previous = self.state.history.pop()
            self.state.step = None
            await self.run(previous, push=False)
            return
        await self._start_intent(MENU_INTENT, via="menu")

    async def _button(self, payload: str) -> None:
        if payload in (NAV_MENU, NAV_BACK, NAV_CANCEL):
            await self._nav(payload)
            return
        if payload not in self.state.offered:
            self.log("stale_button", {"step": self.state.step})
            self.say(self.t(STALE_BUTTON))
            await self._reprompt()
            return
        kind, _, rest = payload.partition(":")
        step = self._waiting_step()
        if kind == "i":
            await self._start_intent(rest, via="button")
        elif payload == NONE_OF_THESE:
            await self._none_of_these()
        elif kind == "g":
            # "g:<step>#<value>": a button made by code for one thing (the reminder of one
            # booking); the flow reads which one from ``button_value``.
            ref, _, value = rest.partition("#")
            if value:
                self.state.context["button_value"] = value
            else:
                self.state.context.pop("button_value", None)
            await self._goto(ref)
        elif kind == "d":
            await self._card_section(rest)
        elif kind == "o" and step is not None and step.type == "choice":
            await self._choose(step, int(rest.split(".")[1]))
        else:
            self.say(self.t(STALE_BUTTON))
            await self._reprompt()

    async def _emergency(self) -> None:
        """The emergency numbers first; then the question that was waiting, asked again.
        Outside a flow the emergency is the intent itself, counted like any other."""
        self.log("emergency", {"step": self.state.step})
        if self.state.step is None:
            await self._start_intent(EMERGENCY_INTENT, via="text")
            return
        step = self.flows.steps.get(self.flows.intents[EMERGENCY_INTENT].start)
        if step is not None and step.text:
            self.say(self.render.text(step.text, self.state.context, self.state.locale))
        await self._reprompt()

    async def _free_text(self, text: str) -> None:
        self.state.context.pop(_CHOICE_TEXT, None)
        understood = self.engine.understand(text, self.state.locale)
        kind, intent = understood.kind, understood.intent
        if kind != "none":
            self.state.context.pop(_MISSES, None)
        alternatives = list(understood.alternatives) if kind != "none" else []
        self.log(
            "match",
            {"kind": kind, "intent": intent, "text_length": len(text), "via": understood.via},
        )
        if (
            kind != "none"
            and understood.language != self.state.locale
            and understood.language != DEFAULT_LOCALE
            and understood.language in SUPPORTED_LOCALES
        ):
            # An English question is answered in English whatever the saved language; the
            # saved language itself does not change (issue 13). Not the other way round: a
            # citizen who chose English keeps English when a message mixes in Indonesian
            # service words ("hapus data saya", "KTP").
            self.saved_locale = self.state.locale
            self.state.locale = understood.language
        if kind == "confident" and intent in self.flows.intents:
            entities = understood.entities.values()
            # The agency named in the message is known to the flow from its first step (a
            # branch on ``agency``); it is not personal data, unlike the numbers below.
            agency = entities.pop("agency", None)
            await self._start_intent(
                intent, via="text", prefill={"agency": agency} if agency else None
            )
            if entities and self.state.step is not None:
                self.entities = entities
                await self._fill_from_entities()
        elif kind == "ambiguous" and (choices := self._choices(alternatives)):
            self.say(self.t(N_("Maksud Anda yang mana? Silakan pilih:")))
            self.state.context[_CHOICE_TEXT] = text[:500]
            self.buttons = [
                (Button(pick(self.flows.intents[i].title, self.state.locale), f"i:{i}"),)
                for i in choices
            ] + [
                (Button(self.t(N_("Bukan semuanya")), NONE_OF_THESE),),
                self._nav_row(back=False, cancel=False),
            ]
        else:
            await self._not_understood(text)

    def _choices(self, alternatives: list[tuple[str, float]]) -> list[str]:
        """The services to offer for a close call: none when the closest is small talk."""
        if not alternatives or alternatives[0][0] in NOT_A_CHOICE:
            return []
        known = [i for i, _score in alternatives if i in self.flows.intents]
        return [i for i in known if i not in NOT_A_CHOICE][:3]

    async def _none_of_these(self) -> None:
        """The citizen meant none of the services offered: the message is recorded for
        admins as not understood, and the menu is shown with a short polite answer."""
        text = self.state.context.pop(_CHOICE_TEXT, None)
        if isinstance(text, str) and text:
            self.effects.append(
                Effect("record_unmatched", {"text": text, "locale": self.state.locale})
            )
        self.log("none_of_these", {"recorded": bool(text)})
        self.say(
            self.t(
                N_(
                    "Baik, terima kasih. Pertanyaan Anda kami catat agar petugas kami bisa "
                    "menambah jawabannya. Silakan pilih layanan dari menu, atau tulis dengan "
                    "kata lain."
                )
            )
        )
        await self._start_intent(MENU_INTENT, via="none_of_these")

    async def _not_understood(self, text: str, *, question: bool = True) -> None:
        """``question`` False: an unknown command, which gets the same answer as any text
        not understood (a staff command must look like any other) but does not count as a
        question the citizen is struggling with."""
        self.effects.append(
            Effect("record_unmatched", {"text": text[:500], "locale": self.state.locale})
        )
        misses = 0
        if question:
            misses = int(self.state.context.get(_MISSES, 0) or 0) + 1
            self.state.context[_MISSES] = misses
        self.log("not_understood", {"in_a_row": misses})
        if misses >= MISSES_BEFORE_OFFICER and OFFICER_STEP in self.flows.steps:
            # Twice in a row: the citizen is not helped by rewording again (issue 15).
            self.say(
                self.t(
                    N_(
                        "Maaf, saya masih belum mengerti. Petugas kami bisa membantu langsung "
                        'di chat ini: tekan "Bicara dengan petugas". Atau pilih layanan '
                        "dari menu."
                    )
                )
            )
        else:
            self.say(
                self.t(
                    N_(
                        "Maaf, saya belum mengerti pertanyaan Anda. Saya bisa membantu soal "
                        "layanan kependudukan, tenaga kerja, kesehatan, dan pajak daerah. Coba "
                        'tulis dengan kata lain, misalnya "syarat KTP hilang", atau pilih dari '
                        "menu."
                    )
                )
            )
        if self.state.step is None:
            self.buttons = [self._nav_row(back=False, cancel=False)]
        else:
            await self._reprompt()
        if misses >= MISSES_BEFORE_OFFICER and OFFICER_STEP in self.flows.steps:
            label = self.t(N_("Bicara dengan petugas"))
            self.buttons.insert(0, (Button(label, f"g:{OFFICER_STEP}"),))

    async def _start_intent(
        self,
        intent_id: str,
        *,
        via: str,
        step: str | None = None,
        prefill: Mapping[str, str] | None = None,
    ) -> None:
        intent = self.flows.intents.get(intent_id)
        if intent is None:
            await self._not_understood(intent_id, question=False)
            return
        self.state.reset()
        self.state.intent = intent_id
        if prefill:
            self.state.context.update(prefill)
        self.log("intent", {"intent": intent_id, "via": via})
        await self.run(step or intent.start, push=False)

    async def _goto(self, ref: str) -> None:
        await self.run(ref, push=True)

    async def _reprompt(self) -> None:
        """Shows the waiting step's question and buttons again, without re-running it."""
        step = self._waiting_step()
        if step is None:
            self.buttons = [self._nav_row(back=False, cancel=False)]
            return
        self._prompt(step)

    # -- answers to waiting steps ------------------------------------------------------------

    async def _answer_input(self, step: Step, text: str) -> None:
        validator = self.engine.registry.validator(step.validator or "")
        try:
            verdict = validator(text)
        except Exception:  # a validator bug must not reach the citizen as a traceback
            logger.exception("validator %s failed", step.validator)
            verdict = None
        if verdict is None or not verdict.ok:
            # Not an answer: maybe another question, or "I don't know" (issue 13). Only text
            # the validator refused gets here, so a valid answer is never taken for either.
            if await self._offer_switch(step, text) or self._dont_know(step, text):
                return
            message = (
                verdict.error
                if verdict and verdict.error
                else N_("Jawaban itu belum bisa saya terima.")
            )
            params = dict(verdict.params) if verdict else {}
            self.say(self.t(message, **params))
            self.log("invalid_input", {"step": step.ref, "validator": step.validator})
            self._prompt(step)
            return
        self.state.context[step.save_as or "value"] = verdict.value
        self.log("input", {"step": step.ref})
        await self.run(step.next or "", push=True)

    async def _offer_switch(self, step: Step, text: str) -> bool:
        """A question about another service typed while an input waits ("syarat akta
        kematian" at the NOP question): offered as a button, the question still open.
        A long text is an answer that broke a rule (too long for the complaint), not a
        question about something else: it gets the validator's own message."""
        if len(text) > _SWITCH_MAX_CHARS:
            return False
        understood = self.engine.understand(text, self.state.locale)
        intent = understood.intent
        if (
            understood.kind != "confident"
            or intent is None
            or intent == self.state.intent
            or intent in NOT_A_CHOICE
            or intent == MENU_INTENT
            or intent not in self.flows.intents
        ):
            return False
        title = pick(self.flows.intents[intent].title, self.state.locale)
        self.say(
            self.t(
                N_(
                    'Sepertinya Anda bertanya tentang "{service}". Tekan tombolnya untuk '
                    "beralih, atau jawab pertanyaan ini:"
                ),
                service=title,
            )
        )
        self.log("offer_switch", {"step": step.ref, "intent": intent})
        self._prompt(step)
        self.buttons.insert(0, (Button(title, f"i:{intent}"),))
        return True

    def _dont_know(self, step: Step, text: str) -> bool:
        """ "tidak tahu" / "sa tra tau" at an input: where to find the value, and an officer."""
        if not _DONT_KNOW.search(normalize(text[:200])):
            return False
        if step.help is not None:
            self.say(self.render.text(step.help, self.state.context, self.state.locale))
        else:
            self.say(
                self.t(
                    N_(
                        "Tidak apa-apa. Bila Anda tidak tahu jawabannya, petugas bisa "
                        "membantu; tekan tombol di bawah."
                    )
                )
            )
        self.log("dont_know", {"step": step.ref})
        self._prompt(step)
        if OFFICER_STEP in self.flows.steps:
            label = self.t(N_("Bicara dengan petugas"))
            self.buttons.insert(0, (Button(label, f"g:{OFFICER_STEP}"),))
        return True

    async def _answer_choice_text(self, step: Step, text: str) -> None:
        options = self._options(step)
        stripped = text.strip().rstrip(".")
        if stripped.isdecimal() and 1 <= int(stripped) <= len(options):
            await self._choose(step, int(stripped) - 1)
            return
        wanted = normalize(text)
        scored = [
            (fuzz.ratio(wanted, normalize(label)), index)
            for index, (label, _o) in enumerate(options)
        ]
        if scored:
            score, index = max(scored)
            if score >= 85:
                await self._choose(step, index)
                return
        kind, intent, _alt = self.engine.match(text, self.state.locale)
        if kind == "confident" and intent in self.flows.intents:
            # A question typed instead of a choice (often at the main menu, right after
            # /start): answered as free text, with what it names (numbers, distrik, agency).
            await self._free_text(text)
            return
        menu = self.flows.intents.get(MENU_INTENT)
        if menu is not None and step.ref == menu.start and any(ch.isalpha() for ch in text):
            # At the main menu words are a question, not a wrong button: answered as one and
            # recorded for admins when not understood (issue 13). A number out of range is
            # still a wrong choice, answered with how to choose.
            await self._free_text(text)
            return
        self.say(self.t(N_("Silakan pilih salah satu tombol di bawah, atau ketik nomornya.")))
        self._prompt(step)

    def _options(self, step: Step) -> list[tuple[str, Option | tuple[str, str]]]:
        """(label, option) pairs; distrik choices are built from the region file."""
        if step.options_from == "districts":
            return [(d.name, (d.code, d.name)) for d in self.render.region.districts]
        if step.options_from and step.options_from.startswith(CONTEXT_OPTIONS):
            return _context_options(self.state.context, step.options_from)
        return [
            (self.render.text(o.label, self.state.context, self.state.locale), o)
            for o in step.options
        ]

    async def _choose(self, step: Step, index: int) -> None:
        options = self._options(step)
        if not 0 <= index < len(options):
            await self._reprompt()
            return
        _label, option = options[index]
        self.log("choice", {"step": step.ref, "option": index})
        if isinstance(option, Option):
            self.state.context.update(option.set)
            await self.run(option.goto, push=True)
        elif isinstance(option, dict):  # options an action computed (issue 18)
            key = step.save_as or "value"
            self.state.context[key] = option["value"]
            self.state.context[f"{key}_name"] = option["label"]
            self.state.context.update(option["set"])
            await self.run(step.next or "", push=True)
        else:
            code, name = option
            key = step.save_as or "district"
            self.state.context[key] = code
            self.state.context[f"{key}_name"] = name
            await self.run(step.next or "", push=True)

    async def _fill_from_entities(self) -> None:
        """Answers waiting input steps with values the citizen already wrote (issue 13).

        Only a step that declares an ``entity`` is filled, and only with a value its own
        validator accepts; otherwise the question is asked as usual.
        """
        for _ in range(MAX_STEPS_PER_TURN):
            step = self._waiting_step()
            if step is not None and step.type == "choice" and step.options_from == "districts":
                # "kapan jemput bola ke Kokonao": the distrik (or the kampung's distrik) the
                # citizen named answers the distrik question.
                code = self.entities.pop("district", None)
                district = self.render.region.district(code) if code else None
                if district is None:
                    return
                if self.messages:
                    self.messages.pop()
                key = step.save_as or "district"
                self.state.context[key] = district.code
                self.state.context[f"{key}_name"] = district.name
                self.log("choice", {"step": step.ref, "via": "entity"})
                await self.run(step.next or "", push=True)
                continue
            if step is None or step.type != "input" or not step.entity:
                return
            value = self.entities.pop(step.entity, None)
            if value is None:
                return
            validator = self.engine.registry.validator(step.validator or "")
            try:
                verdict = validator(value)
            except Exception:  # a validator bug: ask the question instead
                logger.exception("validator %s failed", step.validator)
                return
            if not verdict.ok:
                return
            # The question was already shown by run(); drop it, it has been answered.
            if self.messages:
                self.messages.pop()
            self.state.context[step.save_as or "value"] = verdict.value
            self.log("input", {"step": step.ref, "via": "entity"})
            await self.run(step.next or "", push=True)

    # -- running steps -----------------------------------------------------------------------

    def _prompt(self, step: Step) -> None:
        locale = self.state.locale
        self.say(self.render.text(step.text, self.state.context, locale))
        rows: list[tuple[Button, ...]] = []
        if step.type == "choice":
            seq = self.state.seq
            labels = [label for label, _ in self._options(step)]
            width = 2 if step.options_from == "districts" else 1
            buttons = [Button(label, f"o:{seq}.{i}") for i, label in enumerate(labels)]
            rows = [tuple(buttons[i : i + width]) for i in range(0, len(buttons), width)]
        rows += [
            (Button(self.render.text(b.label, self.state.context, locale), f"g:{b.goto}"),)
            for b in step.buttons
        ]
        menu = self.flows.intents.get(MENU_INTENT)
        at_menu = menu is not None and step.ref == menu.start
        if not at_menu:  # "Menu utama" and "Batal" on the menu itself would only confuse
            rows.append(self._nav_row(back=bool(self.state.history), cancel=True))
        self.buttons = rows

    async def run(self, ref: str, *, push: bool) -> None:
        """Runs steps from ``ref`` until one waits for the citizen or the flow ends."""
        if push and self.state.step:
            self.state.history.append(self.state.step)
            self.state.history = self.state.history[-20:]
        self.state.step = None
        self.buttons = []
        for _ in range(MAX_STEPS_PER_TURN):
            step = self.flows.steps.get(ref)
            if step is None:
                logger.error("flow refers to missing step %s", ref)
                self._generic_error()
                return
            entered = self.engine.intent_at.get(ref)
            if entered is not None and entered != self.state.intent:
                self.state.intent = entered
                self.log("intent", {"intent": entered, "via": "navigation"})
            self.log("step", {"step": ref, "type": step.type})
            self.state.context.update(step.set)
            if step.type in WAITING_TYPES:
                self.state.seq += 1
                self.state.step = ref
                self._prompt(step)
                return
            self.queue_button = None
            follow = await self._run_one(step)
            if follow is None and self.card_shown:
                # A service card was shown in this run (last, or before a status list): its
                # section buttons come first.
                self.buttons = [*self._card_rows(), *self._step_rows(step)]
                self.buttons.append(self._nav_row(back=False, cancel=False))
            elif step.buttons and follow is None:
                self.buttons = [
                    (
                        Button(
                            self.render.text(b.label, self.state.context, self.state.locale),
                            f"g:{b.goto}",
                        ),
                    )
                    for b in step.buttons
                ] + [self._nav_row(back=False, cancel=False)]
            if follow is None:
                self._provenance()
                if self.queue_button is not None:
                    # After the card's sections (what to bring comes first), above the menu.
                    rows = self.buttons or [self._nav_row(back=False, cancel=False)]
                    self.buttons = [*rows[:-1], (self.queue_button,), rows[-1]]
                self.state.history = []
                return
            ref = follow
        logger.error("flow loop at %s: more than %d steps in one turn", ref, MAX_STEPS_PER_TURN)
        self._generic_error()

    def _step_rows(self, step: Step) -> list[tuple[Button, ...]]:
        locale = self.state.locale
        return [
            (Button(self.render.text(b.label, self.state.context, locale), f"g:{b.goto}"),)
            for b in step.buttons
        ]

    def _card_rows(self, *, skip: str | None = None) -> list[tuple[Button, ...]]:
        """The section buttons under a service card, two a row (issue 14, item 5)."""
        buttons = [
            Button(label, f"d:{key}")
            for key, label in self.render.card_sections(self.state.locale)
            if key != skip
        ]
        return [tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2)]

    async def _card_section(self, key: str) -> None:
        """One section of the last service card, with the other sections' buttons under it;
        the provenance follows every section, as it follows the card."""
        step = self.flows.steps.get(str(self.state.context.get(CARD_KEY, "")))
        if step is None or step.service is None or key not in dict(self.render.SECTIONS):
            self.say(self.t(STALE_BUTTON))
            await self._reprompt()
            return
        self.log("card_section", {"step": step.ref, "section": key})
        title, body = self.render.card_section(
            step.service, key, self.state.context, self.state.locale, self.now
        )
        self.say(body, title=title)
        self._provenance()
        self.buttons = [*self._card_rows(skip=key), *self._step_rows(step)]
        self.buttons.append(self._nav_row(back=False, cancel=False))

    def _provenance(self) -> None:
        """Under the answer that ends an intent: its sources and who verified it, or that
        nobody did yet (issue 14). The bot's own interface intents carry no facts."""
        intent = self.flows.intents.get(self.state.intent or "")
        if intent is None or intent.interface or not self.messages:
            return
        flow = self.flows.flows.get(intent.flow)
        owner = intent.opd or (flow.opd if flow else None)
        footer = self.render.provenance(intent, owner, self.state.locale, self.now)
        if self.sample_shown:
            footer = self.t(SAMPLE_DATA) + "\n" + footer
        last = self.messages[-1]
        self.messages[-1] = dataclasses.replace(last, text=f"{last.text}\n\n{footer}")

    def _offer_queue(self, step: Step) -> None:
        """Issue 18: a service with an office queue gets an "Ambil nomor antrean" button."""
        if QUEUE_STEP not in self.flows.steps or step.service is None:
            return
        offer = queue_offer(
            self.render.region,
            self.engine.intent_at.get(step.ref),
            step.service,
            self.state.locale,
            self.render.lines,
            self.render.text,
            self.state.context,
        )
        if offer is not None:
            self.state.context.update(offer)
            self.queue_button = Button(self.t(OFFER_LABEL), f"g:{QUEUE_STEP}")

    def _generic_error(self) -> None:
        self.state.reset()
        self.say(self.t(N_("Maaf, terjadi kendala di sistem kami. Silakan coba lagi dari menu.")))
        self.buttons = [self._nav_row(back=False, cancel=False)]

    async def _run_one(self, step: Step) -> str | None:
        """Runs one non-waiting step; returns the next step or None when the flow ends."""
        locale = self.state.locale
        context = self.state.context
        if step.type == "message":
            self.say(self.render.text(step.text, context, locale))
            return step.next
        if step.type == "service" and step.service is not None:
            opd = self.flows.flows[step.flow].opd if step.flow in self.flows.flows else None
            title, body = self.render.service(step.service, opd, context, locale, self.now)
            self.say(body, title=title)
            context[CARD_KEY] = step.ref  # its section buttons show this card's details
            self.card_shown = True
            self._offer_queue(step)
            return step.next
        if step.type == "end":
            if step.text:
                self.say(self.render.text(step.text, context, locale))
            return None
        if step.type == "branch":
            return _branch(step, context)
        if step.type == "handoff":
            reference = self.engine._new_reference()
            context["reference"] = reference
            opd = step.opd or (
                self.flows.flows[step.flow].opd if step.flow in self.flows.flows else None
            )
            self.effects.append(
                Effect(
                    "record_request",
                    {
                        "reference": reference,
                        "kind": step.kind,
                        "opd": opd or context.get("opd"),
                        "message": str(context.get("message", ""))[:1000],
                        "intent": self.state.intent,
                        "contact": context.get("contact"),
                        # Taken out of the context: the request row is the only place a
                        # call-back number is kept (not the stored conversation).
                        "phone": context.pop("phone", None),
                        # Issue 15: the ticket opened for it (bot/handoff).
                        "consent": context.get("consent") == "yes",
                        "category": context.get("category"),
                    },
                )
            )
            self.say(self.render.text(step.text, context, locale))
            return step.next
        if step.type == "action":
            return await self._action(step)
        return None

    async def _action(self, step: Step) -> str | None:
        locale = self.state.locale
        context = self.state.context
        if step.text:
            self.say(self.render.text(step.text, context, locale))
        params = {
            key: self.render.fill(value, context, locale, missing="")
            if isinstance(value, str)
            else value
            for key, value in step.params.items()
        }
        name = step.action or ""
        result = self._builtin(name, params)
        if result is None:
            try:
                action = self.engine.registry.action(name)
                result = await action(
                    ActionCall(params=params, user_id=self.user_id, locale=locale)
                )
            except Exception:  # an integration bug is an outage for the citizen, not a crash
                logger.exception("action %s failed", name)
                result = ActionResult("unavailable")
        self.log("action", {"action": name, "outcome": result.outcome})
        if result.data.get("sample") is True:
            self.sample_shown = True  # the answer says it is example data (bot/local.py)
        if result.outcome == "unavailable" and result.data.get("reason") == "not_configured":
            # Not an outage: the agency's system was never connected (issue 14).
            self.say(self.render.not_connected(str(result.data.get("opd", "")), locale))
            return None
        if step.save_as:
            context[step.save_as] = dict(result.data)
        target = step.on.get(result.outcome)
        if target is None:
            self.say(
                self.t(
                    N_("Maaf, layanan ini sedang tidak dapat dihubungi. Silakan coba lagi nanti.")
                )
            )
            return None
        return target

    def _builtin(self, name: str, params: Mapping[str, Any]) -> ActionResult | None:
        if name == "core.set_language":
            locale = str(params.get("locale", DEFAULT_LOCALE))
            if locale not in SUPPORTED_LOCALES:
                return ActionResult("invalid")
            self.state.locale = locale
            self.effects.append(Effect("set_locale", {"locale": locale}))
            return ActionResult("ok", {"locale": locale})
        if name == "core.erase_user_data":
            self.effects.append(Effect("erase_user_data"))
            self.erased = True
            return ActionResult("ok")
        if name == "core.save_subscription":
            district = str(params.get("district", ""))
            topics = [t.strip() for t in str(params.get("topics", "")).split(",") if t.strip()]
            if self.render.region.district(district) is None or not topics:
                return ActionResult("invalid")
            self.effects.append(
                Effect("save_subscription", {"district": district, "topics": topics})
            )
            name_ = self.render.region.district(district)
            return ActionResult(
                "ok",
                {
                    "district": district,
                    "district_name": name_.name if name_ else district,
                    "topics": ", ".join(topics),
                },
            )
        if name == "core.stop_subscription":
            self.effects.append(Effect("stop_subscription"))
            return ActionResult("ok")
        return None


def _branch(step: Step, context: Mapping[str, Any]) -> str | None:
    for case in step.cases:
        value = _dotted(context, case.var)
        if case.test == "exists":
            hit = (value is not None and value != "") == bool(case.value)
        elif case.test == "equals":
            hit = value == case.value or str(value) == str(case.value)
        elif case.test == "not_equals":
            hit = not (value == case.value or str(value) == str(case.value))
        else:
            hit = value in case.value if isinstance(case.value, list) else False
        if hit:
            return case.goto
    return step.default


def _dotted(context: Mapping[str, Any], name: str) -> Any:
    value: Any = context
    for part in name.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        else:
            return None
    return value


_INVISIBLE = dict.fromkeys(
    [
        *map(ord, "\u200b\u200c\u200d\u2060\ufeff\u200e\u200f"),  # zero-width, LRM/RLM
        *map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"),  # embeddings
        # C0 control characters except tab and line breaks, and DEL: a NUL byte cannot be
        # stored in a PostgreSQL text column, and none of them is something a citizen means.
        *(c for c in range(0x20) if chr(c) not in "\t\n\r"),
        0x7F,
    ],
    None,
)


def _clean(text: str) -> str:
    """Drops invisible, direction-control and control characters and caps the length.

    A lone surrogate (possible in a forged update's JSON, "\\ud800") cannot be encoded as
    UTF-8 and would make storing the text fail, so it becomes "?".
    """
    text = text.encode("utf-8", "replace").decode("utf-8")
    return text.translate(_INVISIBLE).strip()[:MAX_TEXT_CHARS]
