"""Compositional phrasing for the corpus: patterns, verbs and their forms, sentence frames,
and the noise people's typing adds.

A task says what it wants in parts (see corpus.py):

- `vps`: imperative verb phrases, "put {each} {block} in the {bowl} of its {colour}";
- `states`: a noun phrase and the state it should end in, for frames such as "I'd like
  {np} {pp} {rest}" or "{np} should go {rest}";
- `wholes`: sentences that say it another way ("alphabetise the letters", "I'm thirsty").

Sentence frames (politeness, questions, indirect requests, word order) wrap them; slots in
the patterns draw verbs, object phrases and modifiers, several of them from WordNet. Then
noise: fillers, dropped articles, typos, capitals, other punctuation.

Pattern syntax: `(a|b|c)` one of the choices, `[x]` x or nothing, `{name}` a slot (a
string pattern, a list of them, or a function of the random generator). Patterns are
parsed once and cached.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Dict, List, Sequence, Union

Slot = Union[str, Sequence[str], Callable[[random.Random], str]]


# ----------------------------------------------------------------------------- patterns
@lru_cache(maxsize=None)
def _parse(pattern: str):
    """A pattern as a tree: ("seq", [...]), ("alt", [...]), ("opt", node), ("slot", name),
    ("text", s)."""
    pos = 0

    def seq(stop: str):
        nonlocal pos
        items, buf = [], []
        while pos < len(pattern) and pattern[pos] not in stop:
            c = pattern[pos]
            if c in "([{":
                if buf:
                    items.append(("text", "".join(buf)))
                    buf = []
                pos += 1
                if c == "(":
                    alts = [seq("|)")]
                    while pattern[pos] == "|":
                        pos += 1
                        alts.append(seq("|)"))
                    pos += 1  # ")"
                    items.append(("alt", alts))
                elif c == "[":
                    node = seq("]")
                    pos += 1
                    items.append(("opt", node))
                else:
                    end = pattern.index("}", pos)
                    items.append(("slot", pattern[pos:end]))
                    pos = end + 1
            else:
                buf.append(c)
                pos += 1
        if buf:
            items.append(("text", "".join(buf)))
        return ("seq", items)

    tree = seq("")
    if pos != len(pattern):
        raise ValueError(f"unbalanced pattern: {pattern!r}")
    return tree


def expand(pattern: str, rng: random.Random, slots: Dict[str, Slot]) -> str:
    """One random sentence of `pattern`, single-spaced."""
    out: List[str] = []

    def walk(node):
        kind = node[0]
        if kind == "text":
            out.append(node[1])
        elif kind == "seq":
            for n in node[1]:
                walk(n)
        elif kind == "alt":
            walk(rng.choice(node[1]))
        elif kind == "opt":
            if rng.random() < 0.5:
                walk(node[1])
        else:
            name = node[1]
            if name not in slots:
                raise KeyError(f"pattern {pattern!r} has no slot {name!r}")
            v = slots[name]
            if callable(v):
                out.append(v(rng))
            elif isinstance(v, str):
                out.append(expand(v, rng, slots))
            else:
                out.append(expand(rng.choice(list(v)), rng, slots))

    walk(_parse(pattern))
    return tidy("".join(out))


def tidy(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s+([,.?!:;])", r"\1", text)
    text = re.sub(r"([,:;])(?=\S)", r"\1 ", text)
    return re.sub(r",\s*,", ",", text)


# ----------------------------------------------------------------------------- verbs
IRREGULAR_PP = {
    "put": "put", "set": "set", "lay": "laid", "bring": "brought", "take": "taken", "get": "gotten",
    "give": "given", "make": "made", "build": "built", "throw": "thrown", "send": "sent",
    "leave": "left", "hold": "held", "spread": "spread", "split": "split", "stick": "stuck",
    "write": "written", "keep": "kept", "find": "found", "go": "gone", "do": "done",
    "fling": "flung", "cast": "cast", "sit": "sat", "stand": "stood", "split up": "split up",
    "draw": "drawn", "lead": "led", "run": "run", "shut": "shut", "spell": "spelled",
}
DOUBLE_FINAL = {"drop", "stop", "pop", "plop", "tip", "ship", "slip", "grab", "bin", "stow",
                "chop", "tap", "rub", "scrub", "mop", "sip", "dip", "wrap", "zip", "nab"}


def _inflect_word(verb: str, suffix: str) -> str:
    if suffix == "ed" and verb in IRREGULAR_PP:
        return IRREGULAR_PP[verb]
    if verb in DOUBLE_FINAL and verb != "stow":
        verb = verb + verb[-1]
    elif verb.endswith("ie") and suffix == "ing":
        verb = verb[:-2] + "y"
    elif verb.endswith("e") and not verb.endswith("ee"):
        verb = verb[:-1]
    elif suffix == "ed" and len(verb) > 2 and verb.endswith("y") and verb[-2] not in "aeiou":
        verb = verb[:-1] + "i"
    return verb + suffix


def inflect(verb: str, suffix: str) -> str:
    """`verb` (maybe with a particle: "line up", "throw away") + "ed" (past participle) or
    "ing"."""
    head, _, rest = verb.partition(" ")
    if suffix == "ed" and verb in IRREGULAR_PP:
        return IRREGULAR_PP[verb]
    return (_inflect_word(head, suffix) + (" " + rest if rest else "")).strip()


@dataclass
class Verbs:
    """A set of verbs that can say one action, with the phrase around them."""
    words: List[str]

    def base(self, rng: random.Random) -> str:
        return rng.choice(self.words)


# ----------------------------------------------------------------------------- frames
# Frames around an imperative verb phrase {vp}; {ing} is the same phrase with an -ing verb.
IMPERATIVE_FRAMES = [
    ("{vp}", 12), ("please {vp}", 4), ("{vp}, please", 3), ("{vp} please", 2),
    ("(could|can|would|will) you [please] {vp}?", 6), ("(could|can|would) you {vp} for me?", 2),
    ("(I want|I need|I'd like|I would like|I'd love) you to {vp}", 4),
    ("(go ahead and|now|just|kindly|quickly|carefully) {vp}", 3),
    ("(your task is to|your job is to|the task is to|the goal is to|your goal:|task:) {vp}", 2),
    ("(time to|let's|help me|try to|make sure (to|you)) {vp}", 2), ("{vp} for me", 2),
    ("{vp}, (thanks|thank you|cheers)", 2), ("(ok|okay|alright|right|hey|hey robot|robot|so)[,] {vp}", 3),
    ("would you mind {ing}?", 1), ("(I'd|I would) appreciate it if you (could|would) {vp}", 1),
    ("do me a (favour|favor) and {vp}", 1), ("(if you could|if you can) {vp}, that would be (great|nice|lovely)", 1),
    ("(when you (get a chance|have a moment|can)), {vp}", 1), ("{vp} (when you can|if you can|now|right away|as soon as you can)", 2),
    ("(you should|you need to|we need to|you have to|you must|I'd like to have you) {vp}", 2),
    ("(can|could) I (ask|get) you to {vp}?", 1), ("is it possible to {vp}?", 1),
    ("(I'm asking you to|I'd ask you to|the plan is to|what I want is to) {vp}", 1),
    ("there's one thing to do: {vp}", 1),
]

# Frames around a wanted state: {np} the objects, {pp} a participle, {rest} where they end.
STATE_FRAMES = [
    ("(I'd like|I want|I need|I would like|I'd love|we want|we need) {np} {pp} {rest}", 5),
    ("(get|have) {np} {pp} {rest}", 2), ("{np} (should|must|need to|have to|ought to) be {pp} {rest}", 3),
    ("(can|could) I have {np} {pp} {rest}?", 1), ("make sure {np} (are|end up|get) {pp} {rest}", 1),
    ("{np} (should|must|need to|have to) (go|end up|be|sit|belong) {rest}", 3),
    ("{np} (go|belong|goes) {rest}", 2), ("(I'd like|I want|I need) {np} {rest}", 2),
    ("{np} {rest}, please", 1), ("let's (get|have) {np} {rest}", 1), ("{np}: {rest}", 1),
    ("(please|kindly) see that {np} (are|is) {pp} {rest}", 1),
    ("it would be (great|nice|good) if {np} (were|was|could be) {pp} {rest}", 1),
]

# Frames around a sentence that already says the whole request.
WHOLE_FRAMES = [("{s}", 10), ("please, {s}", 1), ("{s}, please", 1), ("(ok|okay|hey|so|right)[,] {s}", 1),
                ("{s}, thanks", 1)]


# Corpus version 2 (the shipped model's first stage: tools/train/README.md) says requests in more of the ways people put them:
# more indirect requests and hedges around a verb phrase, and wanted states as "I'd like
# {np} to be ...", "{np} should end up ...", questions about the state, and preferences.
IMPERATIVE_FRAMES_V2 = IMPERATIVE_FRAMES + [
    ("(could|would) you be (so kind as|able) to {vp}?", 1), ("(any chance|is there any chance) you (could|can) {vp}?", 1),
    ("(I was wondering if|I wonder if|I was hoping) you (could|can|would|might) {vp}", 2),
    ("(how about|what about) {ing}?", 1), ("(go|try) and {vp}", 1), ("(first|first of all|to start|for starters), {vp}", 1),
    ("(I'd be grateful if|it would help if|it'd help if) you (could|would) {vp}", 1),
    ("(next|next up|the next job is to|your next job is to|here's the job:) {vp}", 1),
    ("(we're|I'm) going to need you to {vp}", 1), ("(I'm hoping|hoping) you (can|could|will) {vp}", 1),
    ("(you can|you may|feel free to) {vp} [now]", 1), ("(the robot|you) should {vp}", 1),
    ("(if it's not too much trouble|if you don't mind|when you're ready), {vp}", 1),
    ("{vp}: that's (all|the task|the job)", 1), ("(mind|would you mind) {ing} [for me]?", 1),
]
STATE_FRAMES_V2 = STATE_FRAMES + [
    ("(I'd like|I want|I need|I would like|we want|I'd love) {np} to (be|end up|get) {pp} {rest}", 4),
    ("{np} (should|must|need to|ought to) end up {pp} {rest}", 2),
    ("(could|can|would) you (get|have|leave) {np} {pp} {rest}?", 2),
    ("(please|kindly) (get|have|leave) {np} {pp} {rest}", 1), ("(let's|we should) (get|have) {np} {pp} {rest}", 1),
    ("(could|can) {np} be {pp} {rest}[, please]?", 1), ("(my|the) goal is (to have|to get|for) {np} {pp} {rest}", 1),
    ("what I (want|need|would like|'d like) is {np} {pp} {rest}", 1),
    ("(I'd prefer|I prefer|I'd rather have|I'd rather see) {np} {pp} {rest}", 1),
    ("(keep|leave) {np} {pp} {rest}", 1), ("{np}, {pp} {rest}, (please|thanks|if you can)", 1),
    ("(ideally|in the end|at the end|when you're done|once you're done), {np} (should|would|will) be {pp} {rest}", 1),
    ("(I want to see|I'd like to see|show me) {np} {pp} {rest}", 1),
    ("the (way|order|arrangement) I want is {np} {pp} {rest}", 1),
]


@dataclass(frozen=True)
class Style:
    """How a corpus version says requests: the weights of the ways a task is said (a verb
    phrase, a wanted state, a whole sentence, the template's own wording) and the sentence
    frames around each."""
    modes: Sequence
    imperative: Sequence
    state: Sequence
    whole: Sequence


# Every corpus version's style (corpus.py's VERSIONS are its keys). Version 2 says more
# requests as wanted states.
STYLES = {
    1: Style([("vp", 6), ("state", 2), ("whole", 3), ("classic", 2)], IMPERATIVE_FRAMES, STATE_FRAMES, WHOLE_FRAMES),
    2: Style([("vp", 6), ("state", 3), ("whole", 3), ("classic", 2)], IMPERATIVE_FRAMES_V2, STATE_FRAMES_V2, WHOLE_FRAMES),
    # Version 3 says requests as version 2 does and adds explicit requests (explicit.py).
    3: Style([("vp", 6), ("state", 3), ("whole", 3), ("classic", 2)], IMPERATIVE_FRAMES_V2, STATE_FRAMES_V2, WHOLE_FRAMES),
    # Version 4 says them as version 3 does; its tasks are said in more ways (corpus.py).
    4: Style([("vp", 6), ("state", 3), ("whole", 3), ("classic", 2)], IMPERATIVE_FRAMES_V2, STATE_FRAMES_V2, WHOLE_FRAMES),
    # Version 5 says them as version 4 does and adds requests for nothing (nothing.py).
    5: Style([("vp", 6), ("state", 3), ("whole", 3), ("classic", 2)], IMPERATIVE_FRAMES_V2, STATE_FRAMES_V2, WHOLE_FRAMES),
    # Version 6 says them as version 5 does; its mismatched-bowls plans are not cycles (corpus.py).
    6: Style([("vp", 6), ("state", 3), ("whole", 3), ("classic", 2)], IMPERATIVE_FRAMES_V2, STATE_FRAMES_V2, WHOLE_FRAMES),
    # Version 7 says them as version 6 does; its requests for nothing are drawn twice as often.
    7: Style([("vp", 6), ("state", 3), ("whole", 3), ("classic", 2)], IMPERATIVE_FRAMES_V2, STATE_FRAMES_V2, WHOLE_FRAMES),
}


def weighted(rng: random.Random, items):
    return rng.choices([i for i, _ in items], [w for _, w in items])[0]


def vp_forms(rng: random.Random, vp_pattern: str, slots: Dict[str, Slot]):
    """A verb phrase and its -ing form: the pattern's first word is its verb slot, {V}."""
    verb = slots["V"](rng) if callable(slots["V"]) else rng.choice(list(slots["V"]))
    fixed = dict(slots, V=verb)
    vp = expand(vp_pattern, rng, fixed)
    ing = vp.replace(verb, inflect(verb, "ing"), 1) if vp.startswith(verb) else vp
    return vp, ing


# ----------------------------------------------------------------------------- noise
FILLERS_FRONT = ["um", "uh", "so", "okay so", "well", "hmm", "oh", "alright", "now", "right", "hey",
                 "ok", "erm", "uhh", "actually", "listen", "robot", "hi", "hello", "yo"]
FILLERS_MID = ["um", "uh", "like", "just", "actually", "basically", "kind of", "sort of", "I guess",
               "maybe", "you know", "really", "quickly"]
FILLERS_END = ["thanks", "thank you", "please", "ok", "okay", "now", "right now", "for me", "if you can",
               "when you can", "cheers", "thx", "pls", "asap", "real quick", "will you", "ok?",
               "thanks a lot", "if possible"]
# A sentence of context before or after the request, which a planner should read past.
CONTEXT_BEFORE = ["I'm at my desk.", "It's been a long day.", "Quick favour.", "New task.", "Listen up.",
                  "Sorry to bother you.", "Next job:", "One more thing:", "Here's what I need:",
                  "When you're free:", "Okay, robot.", "Good morning!", "I'm back.", "Change of plan:"]
CONTEXT_AFTER = ["Thanks in advance.", "No rush.", "Thank you so much!", "That's all.",
                 "Let me know when you're done.", "I'll wait here.", "Appreciate it."]
ARTICLES = {"the", "a", "an"}
KEYBOARD = "qwertyuiop asdfghjkl zxcvbnm"


def _neighbour(c: str, rng: random.Random) -> str:
    rows = KEYBOARD.split()
    for r in rows:
        i = r.find(c)
        if i >= 0:
            j = min(len(r) - 1, max(0, i + rng.choice([-1, 1])))
            return r[j]
    return c


def typo(word: str, rng: random.Random) -> str:
    if len(word) < 4 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == 1:
        return word[:i] + word[i + 1:]
    if kind == 2:
        return word[:i] + word[i] + word[i:]
    return word[:i] + _neighbour(word[i], rng) + word[i + 1:]


@dataclass
class Noise:
    """How often each kind of noise is added to an instruction."""
    filler: float = 0.12
    drop_articles: float = 0.08
    typo: float = 0.10
    capital: float = 0.25
    punctuation: float = 0.3
    curly: float = 0.03
    context: float = 0.04


def add_noise(text: str, rng: random.Random, protected: Sequence[str] = (), noise: Noise = Noise()) -> str:
    """`text` as people might type it; words inside `protected` spans (what the plan copies
    from the instruction: a word to spell, a colour) are never changed or dropped."""
    keep = set()
    for span in protected:
        for w in span.lower().split():
            keep.add(w)
    words = text.split(" ")
    if rng.random() < noise.drop_articles:
        words = [w for w in words if w not in ARTICLES or w.lower() in keep] or words
    if rng.random() < noise.typo:
        candidates = [i for i, w in enumerate(words) if w.isalpha() and len(w) >= 4 and w.lower() not in keep]
        if candidates:
            i = rng.choice(candidates)
            words[i] = typo(words[i], rng)
    if rng.random() < noise.filler:
        where = rng.randrange(3)
        if where == 0:
            words = [rng.choice(FILLERS_FRONT) + ","] + words
        elif where == 1 and len(words) > 3:
            i = rng.randrange(1, len(words) - 1)
            words = words[:i] + [rng.choice(FILLERS_MID)] + words[i:]
        else:
            last = words[-1].rstrip("?.!")
            end = words[-1][len(last):]
            words = words[:-1] + [last + ",", rng.choice(FILLERS_END) + end]
    text = tidy(" ".join(words))
    if rng.random() < noise.punctuation:
        body = text.rstrip(".?!")
        text = body + rng.choice(["", "", ".", "!", "..", "!!"] if not text.endswith("?") else ["", "?", "??"])
    if rng.random() < noise.capital and text:
        text = text[0].upper() + text[1:]
    if rng.random() < noise.context:
        if rng.random() < 0.6:
            text = f"{rng.choice(CONTEXT_BEFORE)} {text[0].upper() + text[1:]}"
        else:
            text = f"{text.rstrip('.!')}. {rng.choice(CONTEXT_AFTER)}" if not text.endswith("?") else f"{text} {rng.choice(CONTEXT_AFTER)}"
    if rng.random() < noise.curly:
        text = text.replace("'", "\u2019")
    return text


# ----------------------------------------------------------------------------- held-out check
WORD_RE = re.compile(r"[a-z0-9']+")
WINDOW = 5


def words_of(text: str) -> List[str]:
    """The words a held-out check compares: lower case, curly apostrophes made straight,
    anything but letters, digits and apostrophes a separator (tests/paraphrases.rs does the same)."""
    return WORD_RE.findall(text.lower().replace("\u2019", "'"))


def windows(words: Sequence[str], n: int = WINDOW):
    """The n-word windows of a text; a text shorter than n is one window, itself."""
    if len(words) <= n:
        return {tuple(words)}
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


@dataclass
class HeldOut:
    """The held-out paraphrases' windows, slots filled with every value they can take."""
    long: set = field(default_factory=set)    # 5-word windows
    short: List[tuple] = field(default_factory=list)  # paraphrases shorter than 5 words

    def add(self, text: str):
        ws = words_of(text)
        if len(ws) < WINDOW:
            self.short.append(tuple(ws))
        else:
            self.long |= windows(ws)

    def clashes(self, text: str) -> bool:
        ws = words_of(text)
        if any(w in self.long for w in windows(ws)) and len(ws) >= WINDOW:
            return True
        for s in self.short:
            k = len(s)
            if any(tuple(ws[i:i + k]) == s for i in range(len(ws) - k + 1)):
                return True
        return False
