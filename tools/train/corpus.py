"""Corpus of instruction -> numbered plan texts for the three domains (tabletop, grid maze,
kitchen).

The corpus is scene-agnostic, as in the Grounded Decoding paper: every plan names objects
drawn at random from the domain's whole object set, so a model trained on it learns how
plans go for an instruction (which kinds of skills, in which order, how objects relate: a
block goes to the bowl of the *same* colour) but never what is actually on the table. Only
grounded models can make its plans feasible.

Instructions are built compositionally (phrasing.py): each task says what it wants as verb
phrases, wanted states and whole sentences, whose slots draw verbs, object phrases and
modifiers (several from WordNet, wordnet.py); sentence frames wrap them (politeness,
questions, indirect requests, word order); then noise (fillers, dropped articles, typos,
capitals). An instruction that shares a 5-word window with a held-out paraphrase
(bench/paraphrases/) is drawn again, so that set stays held out (tests/paraphrases.rs).

Text format (one plan; the Rust decoder builds exactly this prompt, see src/prompt.rs):

    Instruction: put the blocks in the bowls with matching colours.
    1. pick up the red block and place it in the red bowl.
    2. pick up the blue block and place it in the blue bowl.
    3. done.

A small share of plans holds a failed step, written as "N. <skill>. (failed)" and followed
by what to do next: the same step again, or, in the kitchen, after a failed find for a kind
of thing ("something to drink"), a find for another object of that kind.

The skill grammar here must match the Rust one (protocol/src/tabletop.rs and friends); the
Rust test `corpus_sample_parses` checks a sample of this output against it.

    python3 tools/train/corpus.py 5                 # five plans (seed 0)
    python3 tools/train/corpus.py --write DIR --plans N --seed S   # the training corpus
"""

from __future__ import annotations

import hashlib
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
import phrasing as ph  # noqa: E402
from wordnet import WordNet  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
HELD_OUT_DIR = REPO / "bench" / "paraphrases"
DEV_DIR = Path(__file__).resolve().parent / "dev"  # held out from version 5 on
# Requests for nothing written by hand (bench/negation/requests.tsv), held out from version 5 on.
NEGATION_FILE = REPO / "bench" / "negation" / "requests.tsv"
# The development wordings as they were when version 4's corpus was made (dev/v4/); version 4
# holds these out, so that it regenerates byte for byte though dev/ changed since.
DEV_V4_DIR = DEV_DIR / "v4"

# Corpus versions: 1 made the model shipped three models ago (its training.json records no
# version; none recorded means 1); 2 says requests in more ways (wanted states and indirect
# requests in more frames, letter orders by where they start and which way they run, wanted
# states for every letter-sorting task) and orders more letters a plan; 3 adds explicit
# requests that name objects and places (explicit.py); 4 says the Letters tasks and the grid's
# levels in more ways (an order by what comes first or where it starts, a group apart from the
# group the others make, the word to spell as what the letters read; the grid's levels with
# the goal first, orders said backwards, what is needed for what) and also holds out the
# development wordings written to choose these changes (tools/train/dev/v4/); 5 adds requests
# for nothing, whose plan is `done` at once (nothing.py), and holds out bench/negation/; 6
# plans mismatched bowls one block at a time, each to a bowl of any other colour, not as a
# cycle (tt_mismatched_each); 7 is 6 with its requests for nothing drawn twice as often
# (about 18% of plans against 10%). The shipped model is 2 (its first stage, the default
# here), then 3 (its second, `train.py --init-from`), then 7 (its third; 5 and before it 4
# made the third stages shipped before); models/planner-gpt2/training.json records all three,
# and tools/train/README.md compares the models trained on each.
VERSIONS = tuple(ph.STYLES)  # tests/corpus_grammar.rs checks each of them (CORPUS_VERSIONS)
DEFAULT_VERSION = 2

# How the letters of a plan that orders them are drawn, beside any version: "uniform" (2 to 7
# of the 26, every set as likely: every model shipped so far) or "walk-D" for a decay D
# between 0 and 1 (half of them a walk through the alphabet whose steps are short more often
# than long, `walk_letters`; the others uniform). A corpus record (corpus.json,
# training.json) without "orders" was drawn "uniform". tools/train/README.md ("Letter orders
# drawn as walks") says what two decays did.
DEFAULT_ORDERS = "uniform"


def walk_decay(orders: str) -> Optional[float]:
    """The decay that `orders` ("uniform" or "walk-D") draws walks with, None for uniform;
    ValueError, saying what is accepted, for anything else."""
    if orders == "uniform":
        return None
    if orders.startswith("walk-"):
        try:
            d = float(orders[len("walk-"):])
        except ValueError:
            d = None
        if d is not None and 0.0 < d < 1.0:
            return d
    raise ValueError(f"letter orders {orders!r}: say uniform, or walk-D with a decay D between 0 and 1 (walk-0.7)")


def orders_arg(text: str) -> str:
    """argparse's type for --orders: the text, once `walk_decay` accepts it."""
    import argparse
    try:
        walk_decay(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e))
    return text


WALK_SHARE = 0.5  # "walk-D" draws the others uniformly, so that late letters start plans too

# ----------------------------------------------------------------------------- tabletop objects
COLOURS = ["red", "orange", "yellow", "green", "blue", "purple", "pink", "cyan", "brown",
           "gray", "white"]
WARM = ["red", "orange", "yellow", "pink", "brown"]
COOL = ["green", "blue", "purple", "cyan"]
PRIMARY = ["red", "yellow", "blue"]
CORNERS = ["top left corner", "top right corner", "bottom left corner", "bottom right corner"]
SIDES = ["top side", "bottom side", "left side", "right side"]
LETTERS = [chr(c) for c in range(ord("A"), ord("Z") + 1)]
VOWELS = list("AEIOU")
SYMMETRIC = list("AHIMOTUVWXY")
SIM_WORDS = ["hi", "world", "left", "right", "top", "down", "love", "you"]  # the sim's words
SPORTS = ["golf", "judo", "ski", "swim", "surf", "yoga", "sumo", "dive", "polo", "run"]
SNACKS = ["chips bag", "cookie box", "cracker box", "granola bar", "candy bar"]
FRUIT = ["apple", "banana", "strawberry", "lemon", "peach", "pear", "plum"]
OTHER_ITEMS = ["knife", "scissors", "red mug", "red toy car", "tennis ball", "sponge",
               "soda can", "water bottle"]
PACKABLE = SNACKS + FRUIT + OTHER_ITEMS
BOX_COLOURS = ["brown", "blue", "red"]


def skill(obj: str, place: str) -> str:
    return f"pick up the {obj} and place it {place}"


def in_(target: str) -> str:
    return f"in the {target}"


def on(target: str) -> str:
    return f"on the {target}"


def at(position: int) -> str:
    return f"at position {position}"


def block(c: str) -> str:
    return f"{c} block"


def bowl(c: str) -> str:
    return f"{c} bowl"


def letter(l: str) -> str:
    return f"letter {l}"


def pick(rng: random.Random, items, lo: int, hi: int):
    k = rng.randint(lo, min(hi, len(items)))
    return rng.sample(items, k)


# A plan: the values its instruction names (slots, and the words of them the plan copies),
# and its steps; a step is its text and whether it failed.
@dataclass
class Plan:
    slots: Dict[str, str]
    steps: List[Tuple[str, bool]]
    copied: List[str] = field(default_factory=list)
    said: Dict[str, str] = field(default_factory=dict)  # how the instruction names a slot's value
    choices: Dict[str, Sequence[str]] = field(default_factory=dict)  # a slot's words for this plan only (its verbs)


def plain(steps: Sequence[str], **slots) -> Plan:
    return Plan(dict(slots), [(s, False) for s in steps], [v for v in slots.values()])


# ----------------------------------------------------------------------------- tabletop plans
def tt_stack_all(rng):
    cs = pick(rng, COLOURS, 2, 5)
    return plain([skill(block(cs[i]), on(block(cs[i - 1]))) for i in range(1, len(cs))])


def tt_all_on_place(rng):
    place = rng.choice(CORNERS + SIDES)
    cs = pick(rng, COLOURS, 1, 5)
    p = plain([skill(block(c), on(place)) for c in cs])
    p.slots["place"] = place
    return p


def tt_matching(rng):
    cs = pick(rng, COLOURS, 1, 5)
    return plain([skill(block(c), in_(bowl(c))) for c in cs])


def tt_mismatched(rng):
    cs = pick(rng, COLOURS, 2, 5)
    bowls = cs[1:] + cs[:1]  # a derangement: every block to a bowl of another colour
    return plain([skill(block(c), in_(bowl(b))) for c, b in zip(cs, bowls)])


def tt_mismatched_each(rng):
    """Every block, one at a time, to a bowl of any colour but its own (version 6 on).

    Version 1-5's plans are cycles (the first block to the second's bowl, the second to the
    third's, the last to the first's): a model that never sees the scene has to guess where
    the cycle closes, and a cycle sent through a bowl no block matches wants a block that is
    not there. Here each bowl is chosen on its own, so each step needs nothing but its block's
    colour: which bowls there are is grounding's to say.

    The blocks are drawn as version 5 draws them and the bowls from a generator of their own,
    seeded by the corpus generator's state without advancing it, so that every other plan of
    the corpus is version 5's: a model trained on it differs from one trained on version 5 by
    this task's plans alone, not by another sample of everything."""
    cs = pick(rng, COLOURS, 2, 5)
    bowls = random.Random(repr(rng.getstate()[1]))
    return plain([skill(block(c), in_(bowl(bowls.choice([b for b in COLOURS if b != c])))) for c in cs])


def tt_corners(rng):
    cs = pick(rng, COLOURS, 2, 4)
    corners = rng.sample(CORNERS, len(cs))
    return plain([skill(block(c), on(k)) for c, k in zip(cs, corners)])


def tt_stack_group(group):
    def plan(rng):
        cs = pick(rng, group, 2, 4)
        return plain([skill(block(cs[i]), on(block(cs[i - 1]))) for i in range(1, len(cs))])
    return plan


def tt_primary_left(rng):
    cs = pick(rng, PRIMARY, 1, 3)
    return plain([skill(block(c), on("left side")) for c in cs])


def letters_in_order(reverse=False, most=5, orders=DEFAULT_ORDERS):
    """Letters placed in (reverse) alphabetical order: 2 to `most` of them, drawn as
    `orders` says (`walk_decay`)."""
    decay = walk_decay(orders)

    def plan(rng):
        if decay is not None and rng.random() < WALK_SHARE:
            ls = walk_letters(rng, most, reverse, decay)
        else:
            ls = sorted(pick(rng, LETTERS, 2, most), reverse=reverse)
        return plain([skill(letter(l), at(i + 1)) for i, l in enumerate(ls)])
    return plan


def walk_letters(rng: random.Random, most: int, reverse: bool, decay: float) -> List[str]:
    """2 to `most` letters as a walk through the alphabet from A (from Z when `reverse`):
    the first is A plus a gap of g >= 0, each next the one before plus 1 + g, where
    P(g) is proportional to decay^g. So of two letters the nearer one (in the walk's
    direction) is always the likelier to come first or next, as a planner that does not
    see the scene must rank them: among the letters on the table, the one a plan takes next
    is the likeliest one. (Uniform draws of 2 to 7 letters rank them gently: after D each
    letter comes next about 0.83 times as often as the one before it, and the shipped
    model learned a bump a few letters on instead: tools/train/README.md.)"""
    def gap() -> int:
        g = 0
        while rng.random() < decay:
            g += 1
        return g
    k = rng.randint(2, most)
    while True:
        ls, i = [], gap()
        while i < len(LETTERS) and len(ls) < k:
            ls.append(LETTERS[len(LETTERS) - 1 - i] if reverse else LETTERS[i])
            i += 1 + gap()
        if len(ls) >= 2:
            return ls


def tt_spell_word(words):
    def plan(rng):
        word = rng.choice(SIM_WORDS) if rng.random() < 0.4 else rng.choice(words)
        # "as much as you can": sometimes a letter is missing and the plan skips it
        letters = [c.upper() for c in word]
        kept = [(i, l) for i, l in enumerate(letters) if rng.random() > 0.15] or [(0, letters[0])]
        return plain([skill(letter(l), at(i + 1)) for i, l in kept], word=word)
    return plan


def tt_spell_sport(rng):
    word = rng.choice(SPORTS)
    return plain([skill(letter(c.upper()), at(i + 1)) for i, c in enumerate(word)])


def letters_to(group, place):
    def plan(rng):
        ls = pick(rng, group, 1, 4)
        return plain([skill(letter(l), on(place)) for l in ls])
    return plan


def tt_less_than(rng):
    bound = rng.choice(LETTERS[2:8])
    below = [l for l in LETTERS if l < bound]
    ls = sorted(pick(rng, below, 1, 3))
    return plain([skill(letter(l), on("bottom side")) for l in ls], bound=bound)


def tt_pack_brown(rng):
    return plain([skill(o, in_("brown box")) for o in pick(rng, PACKABLE, 1, 5)])


def tt_pack_boxes(rng):
    items = pick(rng, PACKABLE, 2, 5)
    boxes = rng.sample(BOX_COLOURS, 2)
    return plain([skill(o, in_(f"{boxes[i % 2]} box")) for i, o in enumerate(items)])


def tt_snacks_right(rng):
    return plain([skill(o, on("right side")) for o in pick(rng, SNACKS, 1, 4)])


def tt_picnic(rng):
    return plain([skill(o, in_("brown box")) for o in pick(rng, FRUIT + SNACKS, 1, 5)])


# ----------------------------------------------------------------------------- grid plans
GRID_COLOURS = ["red", "green", "blue", "purple", "yellow", "grey"]
GRID_OBJECTS = ["key", "ball", "box"]


def gobj(rng, kinds=GRID_OBJECTS):
    return f"{rng.choice(GRID_COLOURS)} {rng.choice(kinds)}"


def g_open_doors(rng):
    a, b = rng.sample(GRID_COLOURS, 2)
    return plain([f"go to the {a} door", f"open the {a} door", f"go to the {b} door",
                  f"open the {b} door"], first=a, second=b)


def g_put_next(rng):
    x, y = gobj(rng), gobj(rng)
    while y == x:
        y = gobj(rng)
    return plain([f"go to the {x}", f"pick up the {x}", f"go to the {y}",
                  f"put the {x} next to the {y}"], object=x, target=y)


def g_go_to(rng):
    x = gobj(rng)
    return plain([f"go to the {x}"], object=x)


def g_pick_up(rng):
    # Boxes seldom: in MiniGrid's levels a box to pick up is the one behind a locked door
    # (BlockedUnlockPickup), and "pick up the blue box" should keep that plan in mind.
    x = gobj(rng, ["key", "ball"] if rng.random() < 0.85 else ["box"])
    return plain([f"go to the {x}", f"pick up the {x}"], object=x)


def g_locked_room(rng):
    key_c, room_c = rng.choice(GRID_COLOURS), rng.choice(GRID_COLOURS)
    return plain([
        f"go to the {room_c} door", f"open the {room_c} door", f"go to the {key_c} key",
        f"pick up the {key_c} key", f"go to the {key_c} door", f"open the {key_c} door",
        "go to the goal"], colour=key_c, room=room_c)


def g_multi_room(rng):
    doors = rng.sample(GRID_COLOURS, rng.randint(2, 5))
    steps = []
    for d in doors:
        steps += [f"go to the {d} door", f"open the {d} door"]
    return plain(steps + ["go to the goal"])


def g_blocked_unlock(rng):
    box_c, ball_c = rng.choice(GRID_COLOURS), rng.choice(GRID_COLOURS)
    key_c = rng.choice(GRID_COLOURS)
    return plain([
        f"go to the {key_c} key", f"pick up the {key_c} key", f"go to the {ball_c} ball",
        f"drop the {key_c} key", f"pick up the {ball_c} ball", f"drop the {ball_c} ball",
        f"pick up the {key_c} key", f"go to the {key_c} door", f"open the {key_c} door",
        f"drop the {key_c} key", f"go to the {box_c} box", f"pick up the {box_c} box"],
        object=f"{box_c} box")


# ----------------------------------------------------------------------------- kitchen plans
KITCHEN_LOCATIONS = ["far counter", "near counter", "table", "trash can", "user"]
DRINKS = ["coke can", "pepsi can", "sprite can", "lime soda can", "tea can",
          "grapefruit soda can", "red bull can", "water bottle"]
KITCHEN_FOOD = ["apple", "orange", "banana", "kettle chips", "rice chips", "jalapeno chips",
                "multigrain chips", "energy bar"]
KITCHEN_OTHER = ["sponge", "towel"]
KITCHEN_OBJECTS = DRINKS + KITCHEN_FOOD + KITCHEN_OTHER
HEALTHY = ["apple", "orange", "banana", "water bottle", "energy bar"]
CHIPS = [o for o in KITCHEN_FOOD if o.endswith("chips")]
CANS = [o for o in DRINKS if o.endswith("can")]
CAFFEINE = ["coke can", "pepsi can", "tea can", "red bull can"]
SODA = ["coke can", "pepsi can", "sprite can", "lime soda can", "grapefruit soda can"]
ENERGY = ["energy bar", "red bull can", "banana"]
CLEANING = ["sponge", "towel"]
# Other words for the objects (protocol/src/kitchen.rs's aliases, and a few more).
KITCHEN_ALIASES = {
    "coke can": ["coke", "coca cola", "cola can", "can of coke", "coca-cola", "coke"],
    "pepsi can": ["pepsi", "pepsi cola", "can of pepsi"],
    "sprite can": ["sprite", "lemon lime soda", "can of sprite"],
    "lime soda can": ["lime soda", "lime seltzer", "can of lime soda"],
    "tea can": ["iced tea", "tea", "can of tea", "can of iced tea"],
    "grapefruit soda can": ["grapefruit soda", "grapefruit can"],
    "red bull can": ["red bull", "energy drink", "can of red bull"],
    "water bottle": ["water", "bottle of water", "bottled water"],
    "apple": ["green apple", "red apple"],
    "orange": ["mandarin", "clementine"],
    "banana": ["banana"],
    "kettle chips": ["kettle crisps", "bag of kettle chips", "kettle chip bag"],
    "rice chips": ["rice crisps", "rice crackers", "bag of rice chips"],
    "jalapeno chips": ["jalapeno crisps", "spicy chips", "bag of jalapeno chips"],
    "multigrain chips": ["multigrain crisps", "whole grain chips", "bag of multigrain chips"],
    "energy bar": ["granola bar", "protein bar"],
    "sponge": ["dish sponge", "scrubber"],
    "towel": ["paper towel", "cloth", "napkin", "dish towel"],
}


def bring(obj, place="user"):
    return [f"find the {obj}", f"pick up the {obj}", f"go to the {place}", f"put down the {obj}"]


def k_bring(rng):
    o = rng.choice(KITCHEN_OBJECTS)
    return plain(bring(o), o=o)


def k_bring_from(rng):
    o, loc = rng.choice(KITCHEN_OBJECTS), rng.choice(KITCHEN_LOCATIONS[:3])
    return plain([f"go to the {loc}", f"pick up the {o}", "go to the user", f"put down the {o}"],
                 o=o, l=loc)


def k_move(rng):
    o, loc = rng.choice(KITCHEN_OBJECTS), rng.choice(KITCHEN_LOCATIONS[:3])
    return plain(bring(o, loc), o=o, l=loc)


def k_throw(rng):
    o = rng.choice(KITCHEN_OBJECTS)
    return plain(bring(o, "trash can"), o=o)


def k_from_group(group, place="user"):
    """Any object of the kind, brought to `place`. Sometimes the first object looked for is
    not there ("find the X" fails): the plan then looks for another of the kind, as a robot
    should (the shipped model used to want the same object again)."""
    def plan(rng):
        order = rng.sample(group, len(group))
        steps: List[Tuple[str, bool]] = []
        misses = 0
        if len(order) > 1 and rng.random() < 0.22:
            misses = 1 if len(order) == 2 or rng.random() < 0.75 else 2
        for o in order[:misses]:
            steps.append((f"find the {o}", True))
        got = order[misses]
        if misses < len(order) - 1 and rng.random() < 0.06:
            # The grasp slipped and knocked it out of reach: another of the kind will do.
            steps += [(f"find the {got}", False), (f"pick up the {got}", True), (f"pick up the {got}", True)]
            got = order[misses + 1]
        steps += [(s, False) for s in bring(got, place)]
        return Plan({}, steps)
    return plan


# ----------------------------------------------------------------------------- the lexicon
class Lexicon:
    """The words the phrasings draw from: curated lists, widened with WordNet synonyms of
    chosen senses (a sense is chosen by its index in WordNet's frequency order)."""

    def __init__(self, wn: WordNet):
        w = wn.lemmas
        self.put = w("put", "v", [0], exclude=["pose"]) + ["move", "drop", "stick", "pop", "get", "transfer"]
        self.move = (w("move", "v", [1]) + w("shift", "v", [1, 2]) +
                     ["push", "slide", "bring", "take", "carry", "send", "relocate", "drag"])
        self.arrange = (w("arrange", "v", [0]) + ["order", "sort", "line up", "lay out", "put",
                        "place", "set", "organise", "organize", "rearrange", "align", "set out",
                        "position", "reorder", "lay"])
        self.stack = w("stack", "v", [1]) + ["pile up", "stack up", "heap up", "put together"]
        self.spell = w("spell", "v", [0, 2]) + ["write out", "form", "make", "build", "compose",
                                                  "create", "lay out", "put together"]
        self.pack = (w("pack", "v", [0]) + w("fill", "v", [0], exclude=["make full"]) + w("load", "v", [0], exclude=["lade", "laden"]) +
                     ["stow", "pack up", "box up", "put away"])
        self.gather = w("gather", "v", [0]) + ["group", "put", "place", "collect", "cluster", "bunch"]
        odd = ["disunite", "secern", "secernate", "severalize", "severalise", "distinguish", "differentiate",
               "tell", "tell apart", "part", "cleave", "rive", "carve up", "fraction", "dissever"]
        self.separate = (w("separate", "v", [0], exclude=odd) + w("split", "v", [0], exclude=odd) +
                         ["isolate", "set apart", "pull apart", "keep apart", "sort out", "pull out"])
        self.bring = (w("bring", "v", [0, 3], exclude=["convey"]) + w("fetch", "v", [1], exclude=["bring in"]) +
                      ["grab", "get", "hand", "pass", "carry", "deliver"])
        self.throw = (w("throw away", "v", [0], exclude=["fling", "put away", "cast out", "cast away"])
                      + ["bin", "trash", "get rid of", "dump", "ditch", "dispose of", "chuck", "junk"])
        self.go = ["go", "walk", "head", "move", "travel", "get", "make your way", "navigate", "drive", "roll"]
        self.take = ["pick up", "grab", "get", "fetch", "take", "collect", "lift", "grab hold of",
                     "get hold of", "retrieve", "obtain", "snatch", "pick"]
        self.colour = ["colour", "color", "colour", "color"] + w("colour", "n", [5]) + ["hue", "shade", "tint", "tone"]
        self.colours = ["colours", "colors", "colours", "colors", "hues", "shades", "tints", "tones"]
        self.thirsty = ["thirsty"] + wn.similar("thirsty") + ["parched", "dehydrated", "dried out"]
        self.tired = (["tired", "sleepy", "drowsy", "exhausted", "worn out", "knackered", "fatigued",
                       "beat", "wiped out", "half asleep", "dead tired"] + w("tired", "a", [0]))
        self.healthy = (["healthy", "nutritious", "wholesome", "healthful", "nourishing",
                         "good for me", "good for you", "nutritional", "low in sugar", "not junk food"] +
                        w("nutritious", "a", [0], exclude=["alimentary", "alimental", "nutrient"]))
        self.drink = ["drink", "beverage", "something to drink", "something to sip"] + w("drink", "n", [2], exclude=["drinkable"])
        self.dirty = ["dirty", "messy", "sticky", "filthy", "grimy", "grubby", "stained", "wet",
                      "covered in crumbs"] + w("dirty", "a", [0])
        # Words to spell: common nouns and verbs of 3-6 letters (seen at least 3 times in
        # WordNet's sense-tagged text).
        self.words = sorted({x for x in wn.common_lemmas("n", 3) + wn.common_lemmas("v", 3) if 3 <= len(x) <= 6})


# ----------------------------------------------------------------------------- phrasings
@dataclass
class Say:
    """How a task can be said (see phrasing.py): verb phrases ({V} is the verb), wanted
    states (noun phrase, verbs for the participle, where they end), whole sentences."""
    vps: Sequence[Tuple[str, str]] = ()            # (verb slot name, pattern without the verb)
    states: Sequence[Tuple[str, str, str]] = ()    # (np pattern, verb slot name, rest pattern)
    wholes: Sequence[str] = ()
    slots: Dict[str, ph.Slot] = field(default_factory=dict)


@dataclass
class Task:
    name: str
    family: str
    plan: Callable[[random.Random], Plan]
    say: Say


def tabletop_slots(lex: Lexicon) -> Dict[str, ph.Slot]:
    return {
        "PUT": lex.put, "MOVE": lex.move, "ARRANGE": lex.arrange, "STACK": lex.stack,
        "SPELL": lex.spell, "PACK": lex.pack, "GATHER": lex.gather, "SEPARATE": lex.separate,
        "colour": lex.colour, "colours": lex.colours,
        "block": "(block|block|block|cube|toy block|brick|wooden block)",
        "blocks": "(blocks|blocks|blocks|blocks|cubes|toy blocks|bricks|wooden blocks)",
        "bowl": "(bowl|bowl|bowl|dish)", "bowls": "(bowls|bowls|bowls|dishes)",
        "all": "(the|all the|all of the|all|every one of the|each of the|the|the|all these|those)",
        "each": "(each|every|each single|every single|each and every)",
        "letters": "(letters|letters|letters|letter blocks|letter tiles|letter cubes|alphabet blocks|characters|tiles|letter pieces)",
        "letter": "(letter|letter|letter block|letter tile|character|tile)",
        "in": "(in|into|inside|in|into)",
        "onto": "(on|onto|to|over to|on|to|toward|towards|across to)",
        "it": "(it|it|that one|the thing)",
        "them": "(them|them|them|those|these)",
        "left": "(left side|left side|left|left-hand side|left edge|left hand side|left part of the table|left half)",
        "right": "(right side|right side|right|right-hand side|right edge|right hand side|right part of the table|right half)",
        "top": "(top side|top side|top|top edge|upper side|top of the table|top part|upper edge)",
        "bottom": "(bottom side|bottom side|bottom|bottom edge|lower side|bottom of the table|bottom part|lower edge)",
        "items": "(objects|items|things|stuff|objects on the table|items on the table|things on the table|products|goods)",
        "box": "(box|box|carton|crate|cardboard box|container)",
        "boxes": "(boxes|boxes|cartons|crates|containers|two boxes)",
    }


def place_phrase(rng: random.Random, place: str) -> str:
    """The place as an instruction may say it (the plan always writes it the canonical way)."""
    if rng.random() < 0.65:
        return place
    v, h = {"top": ["top", "upper"], "bottom": ["bottom", "lower"]}, \
        {"left": ["left", "left-hand", "left hand"], "right": ["right", "right-hand", "right hand"]}
    parts = place.split()
    if parts[-1] == "corner":
        a, b = rng.choice(v[parts[0]]), rng.choice(h[parts[1]])
        return rng.choice([f"{a} {b} corner", f"{a}-{b} corner", f"{b} {a} corner", f"corner at the {a} {b}",
                           f"{a} {b}"])
    side = parts[0]
    words = v.get(side) or h.get(side)
    return rng.choice([f"{rng.choice(words)} {x}" for x in ["side", "edge", "part", "end", "half"]] +
                      [f"{rng.choice(words)}"])


def tabletop_tasks(lex: Lexicon, version: int = DEFAULT_VERSION, orders: str = DEFAULT_ORDERS) -> List[Task]:
    """The tabletop's tasks as corpus `version` says them (see `VERSIONS`), with letter
    orders drawn as `orders` says (`walk_decay`)."""
    s = tabletop_slots(lex)
    v2 = version >= 2
    v4 = version >= 4
    v6 = version >= 6

    def say(**kw) -> Say:
        return Say(kw.get("vps", ()), kw.get("states", ()), kw.get("wholes", ()), dict(s, **kw.get("slots", {})))

    alpha = ("(alphabetical|alphabetic|ABC|A to Z|A-Z|abc|dictionary|alphabet) order")
    alpha_adv = ("(alphabetically|from A to Z|A to Z|from a to z|A through Z|by the alphabet|"
                 "according to the alphabet|as in the alphabet|starting (with|from) A|the way the alphabet goes)")
    rev = ("(reverse|reversed|backwards|backward|inverse|inverted|descending|opposite|reverse alphabetical|"
           "backwards alphabetical|Z to A) order")
    rev_adv = ("(from Z to A|Z to A|from z to a|Z through A|backwards through the alphabet|in reverse|starting (with|from) Z|"
               "alphabetically but backwards|alphabetically in reverse|in the opposite order to the alphabet|"
               "from the end of the alphabet)")
    if v2:
        # Version 2: where the order starts and which way it runs, said in more ways.
        alpha_adv = ("(" + alpha_adv + "|(from|starting at|starting from|beginning with|beginning at) "
                     "(A|the start of the alphabet|the beginning of the alphabet|the first letter) [(up|forwards|upward)]|"
                     "(the|their) (earliest|first|lowest) letter first|A first|(lowest|earliest|first) to (highest|latest|last)|"
                     "in (the|their) (usual|normal|standard|natural|regular) (alphabetical|ABC) order|"
                     "so that (A|the earliest letter|the first letter) comes first|in ascending order|ascending|"
                     "in (alphabetical|ABC|A-to-Z) sequence|in sorted order|the way they (appear|come) in the alphabet|"
                     "in the order of the alphabet|in the order they come in the alphabet|first letter to last)")
        rev_adv = ("(" + rev_adv + "|(from|starting at|starting from|beginning with|beginning at) "
                   "(Z|the end of the alphabet|the last letter) [(backwards|down|downward|back)]|"
                   "(the|their) (latest|last|highest) letter first|Z first|(highest|latest|last) to (lowest|earliest|first)|"
                   "in descending order|descending|in reverse order|reverse sorted|sorted backwards|"
                   "so that (Z|the latest letter|the last letter) comes first|the opposite way to the alphabet|"
                   "against the alphabet|in reverse (alphabetical|ABC) sequence|last letter to first|"
                   "the other way round from the alphabet|with the alphabet reversed)")
    if v4:
        # Version 4: an order said by what comes first or where it starts, and by likeness.
        alpha_adv = ("(" + alpha_adv + "|(the|their) (earlier|lower|smaller) letters (first|on the left|to the left)|"
                     "so [that ](A|the earliest letter|an earlier letter) (comes|would come|is|stands) "
                     "(before|ahead of|left of) (Z|a later letter|the later letters)|"
                     "from A (onwards|onward|upwards|on)|(the way|as|like) (a|the) (dictionary|glossary|phone book|index) "
                     "(lists|orders|sorts) (words|them|its entries)|"
                     "(starting|beginning) (with|from) (whichever letter|whichever one|the letter that|the one that) "
                     "(comes|is) (first|earliest) in the alphabet|(starting|beginning) (at|from) the (front|head|top) of the alphabet|"
                     "in (increasing|rising|ascending) alphabetical order|"
                     "(by|according to) (their|each letter's|each one's) (place|position|rank|spot) in the alphabet)")
        rev_adv = ("(" + rev_adv + "|(the|their) (later|higher|bigger) letters (first|on the left|to the left)|"
                   "so [that ](Z|the latest letter|a later letter) (comes|would come|is|stands) "
                   "(before|ahead of|left of) (A|an earlier letter|the earlier letters)|"
                   "from Z (downwards|downward|down|backwards|back)|"
                   "(the opposite way|in the opposite order|backwards) (from|to) (a|the) (dictionary|glossary|phone book|index)|"
                   "(starting|beginning) (with|from) (whichever letter|whichever one|the letter that|the one that) "
                   "(comes|is) (last|latest) in the alphabet|(starting|beginning) (at|from) the (back|end|far end|tail) of the alphabet|"
                   "in (decreasing|falling|descending) alphabetical order|"
                   "(backwards|in reverse) (by|according to) (their|each letter's|each one's) (place|position|rank|spot) in the alphabet)")
    vowels = ("(the vowels|the vowel letters|all the vowels|every vowel|the letters that are vowels|"
              "A, E, I, O and U|the vowel tiles|any vowels|the vowel blocks)")
    consonants = ("(the consonants|the consonant letters|all the consonants|every consonant|"
                  "the letters that are not vowels|the non-vowels|the letters that aren't vowels|"
                  "the consonant tiles|the consonant blocks|every letter that is not a vowel)")
    others = "(the other letters|the rest|the others|the remaining letters|everything else|the rest of the letters)"
    symmetric = ("(the symmetric letters|the symmetrical letters|the letters that are symmetric|"
                 "the letters that are symmetrical|the mirror-symmetric letters|the letters with symmetry|"
                 "the letters with mirror symmetry|the letters that look the same mirrored|"
                 "the letters that look the same when flipped|the letters that are the same on both sides|"
                 "the symmetric ones|every symmetric letter|any symmetrical letter)")
    before = ("(the letters (that come|coming) before {bound}|the letters (earlier|smaller|lower|less) than {bound}|"
              "the letters (preceding|ahead of|prior to) {bound}|the letters alphabetically before {bound}|"
              "every letter before {bound} in the alphabet|the letters below {bound}|any letter that comes before {bound}|"
              "the letters up to but not including {bound})")
    same = ("(the same|matching|identical|corresponding|their own|the matching|equal|like|the very same)")
    other = ("(a different|another|the wrong|a non-matching|a mismatched|a contrasting|some other|an unmatching|"
             "a differently coloured|a differently colored)")
    cool = "(cool|cold|cool-coloured|cool-colored|cool colour|cool color|cool-toned|cooler)"
    warm = "(warm|hot|warm-coloured|warm-colored|warm colour|warm color|warm-toned|warmer)"
    snacks = "(snacks|snack foods|snack items|snack food|treats|munchies|nibbles|snacky things|snack packs)"

    def separate(group: str, side: str, contrast: str, one: str) -> Say:
        """Letters of a group apart from the others, on a side. Version 4 also names the
        others by the group they make (`contrast`: the vowels are apart from the consonants),
        says the group as a clause about one letter (`one`: "each letter that is a vowel")
        and the side as just one side."""
        rest = "(" + others + "|" + contrast + ")" if v4 else others
        group = "(" + group + "|" + one + ")" if v4 else group
        said = say(
            vps=[("SEPARATE", group + " (from|away from|apart from) " + rest),
                 ("MOVE", group + " (to|onto|over to|toward) the " + side),
                 ("GATHER", group + " (on|at) the " + side), ("SEPARATE", group + " (out|off)")],
            states=[(group, "MOVE", "(on|to) the " + side)] + ([
                (group, "SEPARATE", "(apart from|away from|separate from) " + rest),
                (group, "GATHER", "(on|at|along) the " + side)] if v2 else []),
            wholes=["(keep|set) " + group + " apart from " + rest, group + " (to|on) the " + side,
                    "(split|pull) " + group + " (out|off) to the " + side] + ([
                "(keep|have|leave) " + group + " (on|at) the " + side + " [and " + rest + " (elsewhere|where they are)]",
                group + " (and|from) " + rest + " (should be|need to be|must be) (apart|kept apart|in separate groups)"] if v2 else []))
        if not v4:
            return said
        return Say(
            list(said.vps) + [
                ("MOVE", group + " [(off|away|over)] to (one|a|its own|their own) side[, (away from|apart from) " + rest + "]"),
                ("SEPARATE", group + " (off|out|away) (from|of) " + rest),
                ("GATHER", group + " (together|in one group|in a group|in one place) [(apart from|away from) " + rest + "]")],
            list(said.states) + [(group, "SEPARATE", "(out|off|aside|apart|away) [from " + rest + "]"),
                                 (group, "GATHER", "(in a group|in a pile|in a bunch) of their own")],
            list(said.wholes) + [
                "(keep|put|have|leave) " + group + " in (a group|a pile|a bunch|a cluster|a heap) of their own",
                "(set|pull|split|take|move) " + group + " (apart|aside|away|out) [from " + rest + "]",
                "(take|pick|find) " + group + " and (set|put|keep|move) them (apart|aside|on their own|to one side)",
                "(divide|split|sort) (the letters|the tiles|everything) into " + group + " and " + rest],
            said.slots)

    def stack_only(adjective: str, temperature: str) -> Say:
        """A stack of the blocks of some colours only (cool, warm)."""
        return say(
            vps=[("STACK", "the " + adjective + " {blocks}"),
                 ("STACK", "the {blocks} (with|of|in|that have|having) " + temperature + " {colours}"),
                 ("STACK", "(only|just) the " + adjective + " {blocks}"),
                 ("PUT", "the " + adjective + " {blocks} on top of (each other|one another)")],
            states=[("the " + adjective + " {blocks}", "STACK", "(in (a|one) (stack|tower|pile)|on top of each other)")],
            wholes=["(make|build|form) a (stack|tower|pile) (of|with|from|out of) the " + adjective + " {blocks}",
                    "(a|one) (stack|tower) of [the] " + adjective + " {blocks}"])

    T = [
        Task("alphabetical-order", "letters", letters_in_order(most=7 if v2 else 5, orders=orders), say(
            vps=[("ARRANGE", "{all} {letters} (in|into) " + alpha), ("ARRANGE", "{all} {letters} " + alpha_adv),
                 ("ARRANGE", "{all} {letters} (in a row|in a line|left to right) (alphabetically|in " + alpha + ")"),
                 ("ARRANGE", "{all} {letters} so [that] they (read|go|run) " + alpha_adv),
                 ("PUT", "{all} {letters} in order")] + ([
                ("PUT", "{all} {letters} in (order|sequence) " + alpha_adv),
                ("ARRANGE", "{all} {letters} so [that] they are (sorted|in order|alphabetized|alphabetised) [" + alpha_adv + "]")] if v2 else []),
            states=[("{all} {letters}", "ARRANGE", "(in " + alpha + "|" + alpha_adv + ")")] + ([
                ("{all} {letters}", "ARRANGE", "(so [that] they (read|go|run) " + alpha_adv + "|in (order|sequence) " + alpha_adv + ")")] if v2 else []),
            wholes=["(alphabetize|alphabetise|alphabetically sort|alphabetically order) {all} {letters}",
                    "(alphabetical|ABC|A to Z) order (for|with) {all} {letters}",
                    "{all} {letters} (should|must) (be|go) in " + alpha,
                    "(sort|order) {all} {letters} by the alphabet"] + ([
                "(sort|order|rank|line up) {all} {letters} (from first to last|by their place in the alphabet|by where they come in the alphabet)",
                "(get|put) {all} {letters} into (alphabetical|ABC) (order|sequence)",
                "{all} {letters} (need|want) (sorting|alphabetizing|alphabetising|putting in order) [" + alpha_adv + "]",
                "(make|have) {all} {letters} (read|go|run) " + alpha_adv] if v2 else []))),
        Task("reverse-alphabetical-order", "letters", letters_in_order(reverse=True, most=7 if v2 else 5, orders=orders), say(
            vps=[("ARRANGE", "{all} {letters} in " + rev), ("ARRANGE", "{all} {letters} " + rev_adv),
                 ("ARRANGE", "{all} {letters} (alphabetically|in alphabetical order) (but|only) (backwards|in reverse|reversed)")] + ([
                ("PUT", "{all} {letters} in (order|sequence) " + rev_adv),
                ("ARRANGE", "{all} {letters} so [that] they are (sorted|in order|alphabetized|alphabetised) " + rev_adv)] if v2 else []),
            states=[("{all} {letters}", "ARRANGE", "(in " + rev + "|" + rev_adv + ")")] + ([
                ("{all} {letters}", "ARRANGE", "(so [that] they (read|go|run) " + rev_adv + "|in (order|sequence) " + rev_adv + ")")] if v2 else []),
            wholes=["(reverse-alphabetize|reverse alphabetize|reverse-alphabetise) {all} {letters}",
                    "(Z to A|reverse alphabetical|backwards alphabetical) order (for|with) {all} {letters}",
                    "{all} {letters} in " + rev, "(flip|reverse) the alphabetical order of {all} {letters}"] + ([
                "(sort|order|rank|line up) {all} {letters} (from last to first|backwards by their place in the alphabet|by where they come in the alphabet, last first)",
                "(get|put) {all} {letters} into (reverse|backwards|descending) (alphabetical|ABC) (order|sequence)",
                "{all} {letters} (need|want) (sorting|alphabetizing|putting in order) " + rev_adv,
                "(make|have) {all} {letters} (read|go|run) " + rev_adv] if v2 else []))),
        Task("spell-word", "letters", tt_spell_word(lex.words), say(
            vps=[("SPELL", "[the word] {w} (with|using|out of|from) {all} {letters}"),
                 ("SPELL", "[the word] {w} [as (best|far|much) as you can]"),
                 ("SPELL", "as much of [the word] {w} as (you can|possible|you are able)"),
                 ("ARRANGE", "{all} {letters} (to spell|so they spell|so that they spell|into) [the word] {w}")],
            wholes=["(use|take) {all} {letters} to (spell|write|form|make) [the word] {w}",
                    "(can|could) you (spell|make|write) [the word] {w}?",
                    "(spell|write) {w}, as much of it as you can"] + ([
                # Version 4: the word as what the letters should read or show, or said first.
                "(lay out|line up|set out|place|order) {all} {letters} (to read|so they read|so that they read|to say|so they say|to show) [the word] {w}",
                "(I want|I'd like|I would like) to see [the word] {w} (written|spelled|spelt|laid out|made) (with|in|from|using) {all} {letters}",
                "{w}[(:|,| -)] (spell|write|make|form) it [out] (with|using|from) {all} {letters}",
                "(make|form|build|write|compose|put together) [the word] {w} (out of|from|with|using) {all} {letters}",
                "{all} {letters} (should|must|need to) (spell|read|say|show) [the word] {w}",
                "the word (I want|I'd like|to spell|to make) is {w}"] if v4 else []),
            slots={"w": "({word}|{word}|{word}|\"{word}\"|'{word}')"})),
        Task("spell-sport", "letters", tt_spell_sport, say(
            vps=[("SPELL", "(a|any|some|one) sport [with {all} {letters}]"),
                 ("SPELL", "(the name of|the word for|a word for) (a|any|some|one) sport"),
                 ("SPELL", "(a|some|any) (sport's name|sports word|kind of sport|type of sport)")],
            states=[("the name of a sport", "SPELL", "(with|using|from|out of) {all} {letters}")],
            wholes=["(use|take) {all} {letters} to (spell|write|form|make) (a|some|any) sport",
                    "(make|form|build) (a|the) word (for|that is|naming|that names) (a|some) sport",
                    "(choose|pick|think of) a sport and (spell|write) it [out]"])),
        Task("separate-vowels", "letters", letters_to(VOWELS, "left side"),
             separate(vowels, "{left}", "(the consonants|the consonant letters|the consonant tiles|the non-vowels)",
                      "(each|any|every) (letter|tile) that is a vowel")),
        Task("separate-consonants", "letters", letters_to([l for l in LETTERS if l not in VOWELS], "right side"),
             separate(consonants, "{right}", "(the vowels|the vowel letters|the vowel tiles)",
                      "(each|any|every) (letter|tile) that (isn't|is not) (a vowel|one of the vowels)")),
        Task("symmetric-letters", "letters", letters_to(SYMMETRIC, "top side"), say(
            vps=[("MOVE", symmetric + " (to|onto|over to|toward) the {top}"),
                 ("GATHER", symmetric + " (on|at|along) the {top}"), ("SEPARATE", symmetric + " [out]"),
                 ("SEPARATE", symmetric + " (from|away from) " + others)],
            states=[(symmetric, "MOVE", "(on|to|at) the {top}")] + ([
                (symmetric, "GATHER", "(on|at|along) the {top}"), (symmetric, "SEPARATE", "(apart from|away from|separate from) " + others)]
                if v2 else []),
            wholes=["sort " + symmetric, symmetric + " (to|on) the {top}",
                    "(find|pick out) " + symmetric + " and (put|move) them (at|to|on) the {top}"])),
        Task("letters-less-than", "letters", tt_less_than, say(
            vps=[("MOVE", before + " (to|onto|over to|toward) the {bottom}"),
                 ("GATHER", before + " (on|at|along) the {bottom}"),
                 ("SEPARATE", before + " (to|toward) the {bottom}")],
            states=[(before, "MOVE", "(on|to|at) the {bottom}")] + ([(before, "GATHER", "(on|at|along) the {bottom}")] if v2 else []),
            wholes=[before + " (to|on) the {bottom}"])),
        Task("stack-all-blocks", "blocks-and-bowls", tt_stack_all, say(
            vps=[("STACK", "{all} {blocks}"), ("STACK", "{all} {blocks} (on top of (each other|one another)|into (one|a single|a) (stack|tower|pile)|up)"),
                 ("PUT", "{all} {blocks} (on top of each other|on top of one another|in (a|one) (stack|pile|tower))"),
                 ("PUT", "{each} {block} on top of (another|the (last|previous) one|the one before)")],
            states=[("{all} {blocks}", "STACK", "(in (one|a single) (stack|tower|pile)|on top of each other|into a tower)")],
            wholes=["(make|build|create|form) (a|one|a single|one big|a tall) (stack|tower|pile) (of|with|out of|from|using) {all} {blocks}",
                    "(stack|pile) (them|the blocks) [all] up", "I want (a|one) (tower|stack) of {all} {blocks}"])),
        Task("blocks-on-place", "blocks-and-bowls", tt_all_on_place, say(
            vps=[("MOVE", "{all} {blocks} {onto} the {p}"), ("GATHER", "{all} {blocks} (on|at|in) the {p}"),
                 ("MOVE", "{each} {block} {onto} the {p}"), ("PUT", "{all} {blocks} (on|at|in) the {p}")],
            states=[("{all} {blocks}", "MOVE", "(on|at|to|in) the {p}")],
            wholes=["(every|each) {block} (to|on) the {p}", "{all} {blocks} (to|on) the {p}",
                    "the {p} is where {all} {blocks} (should|must) go"],
            )),
        Task("matching-bowls", "blocks-and-bowls", tt_matching, say(
            vps=[("PUT", "{all} {blocks} {in} the {bowls} (with|of|having|that have|in) " + same + " {colours}"),
                 ("PUT", "{each} {block} {in} the {bowl} (with|of|that has|having) (the same|its own|a matching|an identical|the matching|its) {colour}"),
                 ("PUT", "{each} {block} {in} the {bowl} that (matches|has the same {colour} as|is the same {colour} as) {it}"),
                 ("PUT", "{each} {block} {in} (its|the) (matching|same-coloured|same-colored|corresponding|same colour|same color|own) {bowl}"),
                 ("PUT", "{all} {blocks} {in} the {bowls} so [that] the {colours} match")],
            states=[("{all} {blocks}", "PUT", "{in} the {bowls} (of|with) " + same + " {colours}"),
                    ("{each} {block}", "PUT", "{in} the {bowl} (of|with) (its own|the same|a matching) {colour}")],
            wholes=["(match|pair) {all} {blocks} (to|with) the {bowls} (by|according to|based on) {colour}",
                    "(sort|group) {all} {blocks} into the {bowls} by {colour}",
                    "(match|pair) up {all} {blocks} and {bowls} (by|of the same) {colour}",
                    "(colour|color)-(match|sort) {all} {blocks} into the {bowls}"])),
        Task("mismatched-bowls", "blocks-and-bowls", tt_mismatched_each if v6 else tt_mismatched, say(
            vps=[("PUT", "{each} {block} {in} " + other + " {bowl}"),
                 ("PUT", "{each} {block} {in} a {bowl} (of|with|that has|having) " + other + " {colour}"),
                 ("PUT", "{all} {blocks} {in} the {bowls} (with|of|having) (mismatched|different|non-matching|other|contrasting|unmatched|the wrong) {colours}"),
                 ("PUT", "{each} {block} {in} a {bowl} that (does not|doesn't|does n't) match (its|their) {colour}"),
                 ("PUT", "{each} {block} {in} a {bowl}, (but|just) not the one (of|with) (its|the same) {colour}")],
            states=[("{each} {block}", "PUT", "{in} a {bowl} of (a different|another|the wrong) {colour}"),
                    ("{all} {blocks}", "PUT", "{in} the {bowls} (with|of) (different|mismatched|other) {colours}")],
            wholes=["(mismatch|mix up) {all} {blocks} and [the] {bowls}",
                    "(no|not a single) {block} (should|may|can) (go|end up) in the {bowl} of (its own|the same) {colour}",
                    "{all} {blocks} (go|belong) in {bowls} that don't match them"])),
        Task("different-corners", "blocks-and-bowls", tt_corners, say(
            vps=[("PUT", "{all} {blocks} in (different|separate|distinct|their own|individual) corners"),
                 ("MOVE", "{each} {block} (in|into|to) (a different|a separate|a distinct|its own|an empty|another) corner"),
                 ("MOVE", "{all} {blocks} to (the|different) corners, one (each|per corner|in each)")],
            states=[("{each} {block}", "PUT", "in (a different|its own|a separate) corner")],
            wholes=["(spread|distribute|scatter|split) {all} {blocks} [out] (to|across|over|among) the [four] corners",
                    "one {block} (per|in each|for each|to a) corner",
                    "(no|never) two {blocks} in the same corner"])),
        Task("stack-cool-colours", "blocks-and-bowls", tt_stack_group(COOL), stack_only(cool, "(cool|cold)")),
        Task("stack-warm-colours", "blocks-and-bowls", tt_stack_group(WARM), stack_only(warm, "(warm|hot)")),
        Task("primary-colours-left", "blocks-and-bowls", tt_primary_left, say(
            vps=[("MOVE", "the {blocks} (of|with|in|having|that have) primary {colours} {onto} the {left}"),
                 ("GATHER", "the primary( |-)(coloured|colored|colour|color) {blocks} (on|at) the {left}"),
                 ("MOVE", "the primary( |-)(coloured|colored|colour|color) {blocks} {onto} the {left}"),
                 ("MOVE", "(every|each) {block} (of|with|in) a primary {colour} {onto} the {left}")],
            states=[("the primary( |-)(coloured|colored|colour|color) {blocks}", "MOVE", "(on|to) the {left}")],
            wholes=["(blocks|the blocks) (in|of|with) primary {colours} (to|on) the {left}",
                    "(sort|separate) the primary[-](colour|color|coloured|colored) {blocks} (to|onto) the {left}"])),
        Task("pack-brown-box", "box-packing", tt_pack_brown, say(
            vps=[("PACK", "the brown {box}"), ("PUT", "(the {items}|everything|all the {items}|what you can) {in} the brown {box}"),
                 ("PACK", "the brown {box} (with|using) (the {items}|everything)"),
                 ("PACK", "(the {items}|everything|all the {items}) (in|into) the brown {box}")],
            states=[("(the {items}|everything)", "PACK", "(in|into|inside) the brown {box}"),
                    ("the brown {box}", "PACK", "[with the {items}]")],
            wholes=["(fill|load|stuff) [up] the brown {box}", "everything (goes|should go) in the brown {box}",
                    "(can|could) you (pack|fill) the brown {box}?"])),
        Task("pack-boxes", "box-packing", tt_pack_boxes, say(
            vps=[("PACK", "the {boxes}"), ("PUT", "(the {items}|everything|all the {items}) {in} the {boxes}"),
                 ("PACK", "(the|both|the two|all the) {boxes} (with|using) (the {items}|everything)"),
                 ("SEPARATE", "the {items} (between|among|across) the {boxes}")],
            states=[("(the {items}|everything)", "PACK", "(in|into|inside) the {boxes}")],
            wholes=["(split|divide|share|distribute|spread) the {items} (between|among|across) the [two] {boxes}",
                    "(fill|load) [up] (the|both|the two|all the) {boxes}", "(can|could) you (pack|fill) the {boxes}?"])),
        Task("snacks-right", "box-packing", tt_snacks_right, say(
            vps=[("MOVE", "[all] the " + snacks + " {onto} the {right}"), ("GATHER", "[all] the " + snacks + " (on|at) the {right}"),
                 ("PUT", "(every|each) snack (on|to) the {right}")],
            states=[("[all] the " + snacks, "MOVE", "(on|to|at) the {right}")],
            wholes=["[all] the " + snacks + " (to|on) the {right}", "(my|the) " + snacks + " (go|belong) on the {right}"])),
        Task("picnic-box", "box-packing", tt_picnic, say(
            vps=[("PACK", "[(me|us)] a picnic (box|basket|lunch|box for me)"),
                 ("PUT", "(food|something to eat|the food|things to eat|food for a picnic|picnic food) {in} the brown {box}"),
                 ("PACK", "(food|something to eat|the food|things to eat) for a picnic [in the brown {box}]")],
            states=[("(a|the|my) picnic (box|basket|lunch)", "PACK", "[in the brown {box}]")],
            wholes=["(prepare|make|get ready|put together|fix|assemble) [(me|us)] a picnic (box|basket|lunch)",
                    "get (a|the) picnic (box|lunch|basket) ready", "(I want|I'd like|we need) a picnic [box]",
                    "(food|something to eat) for a picnic, (please|in the brown box)"])),
    ]
    return T


def grid_tasks(lex: Lexicon, version: int = DEFAULT_VERSION) -> List[Task]:
    """The grid's tasks as corpus `version` says them; version 4 says each level in more ways
    (an order said backwards, what is needed for what, the goal first)."""
    v4 = version >= 4
    s = {"GO": lex.go, "TAKE": lex.take, "PUT": lex.put + ["leave", "drop", "set down", "put down"],
         "OPEN": ["open", "open up", "unlock"],
         "next": "(next to|beside|by|near|alongside|adjacent to|close to|right next to|beside|up against|nearby)",
         "to": "(to|toward|towards|over to|up to|to|to)",
         "then": "(then|and then|and after that|after that|followed by|next|and next|, then|; then)"}

    def say(**kw) -> Say:
        return Say(kw.get("vps", ()), kw.get("states", ()), kw.get("wholes", ()), dict(s, **kw.get("slots", {})))

    return [
        Task("open-doors", "grid-easy", g_open_doors, say(
            vps=[("OPEN", "the {first} door, {then} [open] the {second} (door|one)"),
                 ("OPEN", "the {first} door (first|to begin with), {then} the {second} door"),
                 ("OPEN", "the {second} door (after|once) (you [have] opened|opening) the {first} door"),
                 ("OPEN", "the {first} door before the {second} door")],
            wholes=["first [open] the {first} door, {then} the {second} door",
                    "the {first} door (first|to begin with), {then} the {second} (door|one)",
                    "(open|unlock) (two|both) doors: the {first} (one|door) (first|then) the {second} (one|door)"] + ([
                "the {second} door (should|must|may|can) (be opened|open) only (after|once) the {first} (door|one) (is|has been) (open|opened)",
                "(before|ahead of) the {second} door, (open|unlock) the {first} (door|one)",
                "(start|begin) with the {first} door and (finish|end) with the {second} (door|one)",
                "(open|unlock) (two|both|a couple of|a pair of) doors[ for me][, in this order]: [the] {first} [door], then [the] {second} [door]",
                "(don't|do not|never) open the {second} door (before|until) the {first} (door|one) is open"] if v4 else []))),
        Task("put-next", "grid-easy", g_put_next, say(
            vps=[("PUT", "the {object} {next} the {target}"),
                 ("TAKE", "the {object} and (put|drop|place|leave|set) it {next} the {target}"),
                 ("GO", "(with|carrying) the {object} {to} the {target} and (drop|leave) it there")],
            states=[("the {object}", "PUT", "{next} the {target}")],
            wholes=["(move|bring|carry|take) the {object} [over] {next} the {target}"] + ([
                "(I want|I'd like|I need) the {object} [(right|just)] {next} the {target}",
                "(move|put|place|set) the {object} so [that] it (is|sits|ends up|lies|stands) {next} the {target}",
                "(get|bring|carry) the {object} [over] (to|up to) the {target} and (leave|drop|put down|set down) it there"] if v4 else []))),
        Task("go-to", "grid-easy", g_go_to, say(
            vps=[("GO", "{to} the {object}")],
            wholes=["(find|approach|reach|visit|locate) the {object}", "(get|go) (close to|near|next to) the {object}"])),
        Task("pick-up", "grid-easy", g_pick_up, say(
            vps=[("TAKE", "the {object}")],
            wholes=["(get|go get|fetch) [me] the {object}", "I (want|need) [you to get] the {object}"])),
        Task("locked-room", "grid-medium", g_locked_room, say(
            vps=[("TAKE", "the {colour} key (from|in|out of) the {room} room, (unlock|open) the {colour} door (and|then) (go to|reach|get to|walk to|head to) the goal"),
                 ("OPEN", "the [locked] {colour} door (with|using) the key (from|in) the {room} room (and|then) (go to|reach|get to) the goal"),
                 ("GO", "{to} the goal: (the|its) key (is|lies) in the {room} room, the [locked] door is {colour}")],
            wholes=["the goal is (behind|past|through) the [locked] {colour} door (and|;) the {colour} key is in the {room} room",
                    "(get|reach) the goal (behind|past) the locked {colour} door (using|with) the key (from|in) the {room} room"] + ([
                "the {colour} door is locked(,| and|;) (its|the) key (is|lies|sits|waits) in the {room} room(:|;|,) (open|unlock) (it|the door) and (go to|reach|get to|head for|make your way to) the goal",
                "(you'll|you will|you) need the {colour} key (from|in) the {room} room (for|to open|to unlock) the {colour} door (on the way to|to reach|to get to|before) the goal",
                "(reach|get to|go to) the goal(;|:|,|.) (you'll|you will|you) need the {colour} key (from|in) the {room} room (for|to open|to unlock) the {colour} door",
                "(go|head) (into|to) the {room} room (for|to get|to fetch) the {colour} key, (unlock|open) the {colour} door (with it|using it) and (go to|reach|get to|finish at|end at) the goal",
                "(use|take) the key (from|in) the {room} room (on|to open|to unlock) the {colour} door, (then|and then|and) (go to|reach|get to|head for) the goal",
                "(I need you|I want you|be|end up) at the goal(.|;|:|,) the (way|path|route) (is|goes|leads) (through|past) the locked {colour} door(,| and|;) (its|the) key (is|lies|sits) in the {room} room"] if v4 else []))),
        Task("multi-room", "grid-hard", g_multi_room, say(
            vps=[("GO", "(through|across) (the|all the|every|each of the) rooms (to|until you (reach|get to)) the goal"),
                 ("GO", "{to} the goal (in|at) the (last|final|far|farthest) room"),
                 ("OPEN", "(all|every|each of) the doors (and|to) (reach|get to) the goal")],
            wholes=["(reach|get to|find) the goal [square] (in|at) the (last|final|far) room",
                    "(traverse|cross) the rooms to (the goal|reach the goal)"] + ([
                "(walk|go|move|pass) (from room to room|through the rooms|room by room|through each room) (and|until you) (get to|reach|arrive at|find) the goal",
                "(find|make|work) your way to the goal [square]",
                "(head|go|move) (over|on|across) to the goal[, (passing|going|walking) through the rooms]",
                "the goal is (in|at) the (last|final|far|farthest) room: (get|go) there"] if v4 else []))),
        Task("blocked-unlock-pickup", "grid-hard", g_blocked_unlock, say(
            vps=[("TAKE", "the {object} [(from|in|behind) the locked (room|door)]"),
                 ("OPEN", "the [locked] door and (pick up|get|grab|fetch) the {object}")],
            wholes=["(get|fetch|bring me) the {object} (from|out of) the locked room",
                    "the {object} is (behind|past) a locked door: (get|pick up|fetch) it"] + ([
                "(grab|take hold of|get hold of|collect|retrieve|pick up) the {object}[, (whatever|no matter what|even if something) (is|stands) in the way]",
                "(get|bring|fetch|hand) me the {object}",
                "(I need|I want|I'd like) (you to (get|grab|fetch|pick up)|) the {object}"] if v4 else []))),
    ]


def kitchen_tasks(lex: Lexicon) -> List[Task]:
    s = {"BRING": lex.bring, "THROW": lex.throw, "MOVE": ["put", "place", "set", "move", "take", "carry", "bring", "leave", "drop"],
         "det": "(the|the|the|that|my|a|the)", "me": "(me|me|me|me over|over to me|here)",
         "want": "(I want|I'd like|I need|I would like|I could use|I'd love|can I have|could I have|may I have|I'd really like|give me|I'll have)",
         "trash": "(trash|trash can|bin|garbage|rubbish|waste bin|wastebasket|garbage can|rubbish bin|dustbin)",
         "thirsty": lex.thirsty, "tired": lex.tired, "healthy": lex.healthy, "drink": lex.drink, "dirty": lex.dirty,
         "something": "(something|anything|a snack|some food|a bite|a treat|an item|a thing)"}

    def say(**kw) -> Say:
        return Say(kw.get("vps", ()), kw.get("states", ()), kw.get("wholes", ()), dict(s, **kw.get("slots", {})))

    def group(concept_vps, concept_wholes, place="user"):
        return say(vps=concept_vps, wholes=concept_wholes)

    obj: Dict[str, ph.Slot] = {}  # {n}: the object as the instruction names it, set per plan
    return [
        Task("bring", "kitchen-unambiguous", k_bring, say(
            vps=[("BRING", "{me} {det} {n}"), ("BRING", "{det} {n} (to me|over to me|over here|here|for me)")],
            wholes=["{want} {det} {n}", "{det} {n}, please", "{n} please", "(where is|where's) {det} {n}? bring it (to me|here)"],
            slots=obj)),
        Task("bring-from", "kitchen-unambiguous", k_bring_from, say(
            vps=[("BRING", "{me} {det} {n} (from|on|off|sitting on|that is on|that's on|off of) the {l}"),
                 ("BRING", "{det} {n} (from|off) the {l} (to me|over to me|here)")],
            wholes=["{want} {det} {n} (from|on|off|that is on|that's on) the {l}",
                    "(go to|head to|check) the {l} and (bring|get|fetch) me {det} {n}",
                    "there is (a|the) {n} on the {l}, (bring|get|fetch) it (to me|for me)"],
            slots=obj)),
        Task("move", "kitchen-unambiguous", k_move, say(
            vps=[("MOVE", "{det} {n} (on|onto|to|over to|on top of|at) the {l}")],
            states=[("{det} {n}", "MOVE", "(on|onto|at) the {l}")],
            wholes=["{det} {n} (should go|belongs|goes|should be) (on|at) the {l}",
                    "(the|that) {n} (to|on) the {l}"],
            slots=obj)),
        Task("throw-away", "kitchen-unambiguous", k_throw, say(
            vps=[("THROW", "{det} {n}"), ("MOVE", "{det} {n} (in|into) the {trash}")],
            states=[("{det} {n}", "THROW", "")],
            wholes=["{det} {n} (goes|belongs|should go) in the {trash}", "(I'm|I am) (done|finished) with {det} {n}, (throw|toss) it (away|out)"],
            slots=obj)),
        Task("spill", "kitchen-ambiguous", k_from_group(CLEANING), group(
            [("BRING", "{me} something to (clean|wipe|mop|soak) (it|this|that|the spill|the mess|my drink) up"),
             ("BRING", "{me} something (for|to clean) the (spill|mess|puddle)")],
            ["I (spilled|spilt|knocked over|tipped over|dropped|upset) my (drink|coffee|juice|water|soda|cup|glass|tea)[, (help|can you help|please help|help me clean up)]",
             "there's a (spill|puddle|mess) [on the floor][, (help|can you help)]",
             "(help me|can you help me) (clean|wipe|mop) up (the|this|my) (spill|mess)",
             "(oops|whoops|oh no), (I spilled something|my drink spilled|I made a mess)",
             "my (drink|cup|glass) (spilled|fell over|tipped over|went everywhere)"])),
        Task("healthy", "kitchen-ambiguous", k_from_group(HEALTHY), group(
            [("BRING", "{me} (something|a snack|some food|a bite) [(that is|that's)] {healthy}"),
             ("BRING", "{me} (a|some) {healthy} (snack|bite|treat|food|thing to eat)")],
            ["{want} (something|a snack|a bite|some food) {healthy}", "{want} a {healthy} (snack|bite|treat)",
             "(something|a snack) {healthy}, please", "(I'm|I am) (on a diet|trying to eat (healthy|better|well)), (bring me|get me) (something|a snack)",
             "(a|some) {healthy} (snack|food), please"])),
        Task("thirsty", "kitchen-ambiguous", k_from_group(DRINKS), group(
            [("BRING", "{me} (a|some|something to) {drink}"), ("BRING", "{me} something to (drink|sip|quench my thirst)")],
            ["(I'm|I am|I feel|I'm so|I am really|I'm getting) {thirsty}", "{want} (a|some|a cold) {drink}",
             "{want} something to drink", "(a|some) {drink}, please", "(I'm|I am) {thirsty}, (bring|get) me (something|a drink)"])),
        Task("salty", "kitchen-ambiguous", k_from_group(CHIPS), group(
            [("BRING", "{me} something (salty|savory|savoury|salted|crunchy and salty)"),
             ("BRING", "{me} (some|a bag of) (chips|crisps)")],
            ["{want} (something|a snack|some food) (salty|savory|savoury|salted)", "{want} (some|a bag of) (chips|crisps)",
             "(I'm|I am) (craving|in the mood for|hungry for) (something salty|salt|chips|crisps)",
             "(a|some) (salty|savory|savoury) snack, please"])),
        Task("caffeine", "kitchen-ambiguous", k_from_group(CAFFEINE), group(
            [("BRING", "{me} something (with caffeine|caffeinated|to wake me up|with a kick)"),
             ("BRING", "{me} a (caffeinated|caffeine) (drink|beverage)")],
            ["{want} [some] caffeine", "{want} (a|some) (caffeinated|caffeine) (drink|beverage)",
             "(I'm|I am|I feel) {tired}[, (bring|get) me (something with caffeine|a drink with caffeine|something to wake me up)]",
             "(I need|give me) a (caffeine fix|caffeine hit|pick-me-up|jolt)"])),
        Task("fruit", "kitchen-ambiguous", k_from_group(["apple", "orange", "banana"]), group(
            [("BRING", "{me} (a|some|any) (fruit|piece of fruit|fresh fruit|fruit snack)")],
            ["{want} (a|some|any) (fruit|piece of fruit|fresh fruit)", "(some|a) fruit, please",
             "(I'm|I am) in the mood for [some] fruit", "(something|a snack) fruity, please"])),
        Task("soda", "kitchen-ambiguous", k_from_group(SODA), group(
            [("BRING", "{me} a (soda|pop|soft drink|fizzy drink|carbonated drink|soda can|can of soda|soda pop|cola)")],
            ["{want} (a|some) (soda|pop|soft drink|fizzy drink|carbonated drink|soda pop|something fizzy|something bubbly)",
             "(a|some) (soda|pop|fizzy drink), please"])),
        Task("energy", "kitchen-ambiguous", k_from_group(ENERGY), group(
            [("BRING", "{me} something (to give me|for|with) (energy|a boost|fuel)"),
             ("BRING", "{me} something (energizing|energising) [for my (workout|run|training)]")],
            ["I need [some] energy (for|before) my (workout|run|training|exercise|game|hike|practice)",
             "{want} (an energy boost|a boost|some fuel|some energy)[ before (my workout|the gym|my run)]",
             "(I'm|I am) (going|heading) (to the gym|for a run|to work out|to exercise), (bring|get) me something (for energy|energizing)"])),
        Task("clean-table", "kitchen-ambiguous", k_from_group(CLEANING, "table"), group(
            [("BRING", "something to (wipe|clean) the table [with] (to|over to) the table"),
             ("MOVE", "(a sponge|something to wipe with|a towel or a sponge) (on|to) the table")],
            ["(wipe|clean|clean up|wipe down|tidy|scrub) the table", "the table (is|looks|got) {dirty}",
             "(can|could) you (wipe|clean) (the|this) table?", "the table (needs|could use) (a wipe|cleaning|wiping)"])),
        Task("recycle", "kitchen-ambiguous", k_from_group(CANS, "trash can"), group(
            [("THROW", "(a|one|an empty|one of the|any|a single) (can|cans|soda can|drink can|empty can)"),
             ("MOVE", "(a|one|an empty) can (in|into|to) the (recycling|{trash}|recycling bin)")],
            ["(recycle|bin|trash) (a|one|an empty|any) can", "(one of the|an empty) (cans|can) (needs|has) to go",
             "(get rid of|dispose of) (a|an empty|one) can"])),
    ]


# ----------------------------------------------------------------------------- saying it
# The wordings the previous corpus knew: each task's own standard phrasings (the templates'
# instructions among them). Kept so that the standard wordings stay well known; said
# with the same frames and noise as the rest.
CLASSIC = {
    'alphabetical-order': [
        'put the letters in alphabetical order',
        'arrange the letters in alphabetical order',
        'sort the letters alphabetically',
        'line up the letters from A to Z',
        'order the letters alphabetically',
        'place the letters in alphabetical order',
    ],
    'spell-word': [
        'spell as much of the word {word} as you can',
        'spell the word {word}',
        'use the letters to spell {word}',
        'make the word {word} with the letters',
        'spell out {word} with the letter blocks',
    ],
    'separate-vowels': [
        'separate the vowels from the other letters',
        'put the vowels on the left side',
        'move the vowels to the left',
        'pull the vowels out to the left side',
    ],
    'reverse-alphabetical-order': [
        'put the letters in reverse alphabetical order',
        'sort the letters from Z to A',
        'arrange the letters in reverse alphabetical order',
        'order the letters backwards',
    ],
    'spell-sport': [
        'spell a sport',
        'use the letters to spell the name of a sport',
        'spell any sport with the letters',
        'make the name of a sport with the letters',
    ],
    'symmetric-letters': [
        'sort the symmetric letters',
        'put the symmetric letters on the top side',
        'move the letters that are symmetric to the top',
        'separate the symmetric letters to the top side',
    ],
    'separate-consonants': [
        'separate the consonants from the other letters',
        'put the consonants on the right side',
        'move the consonants to the right',
        'pull the consonants out to the right side',
    ],
    'letters-less-than': [
        'put the letters that come before {bound} on the bottom side',
        'move the letters less than {bound} to the bottom',
        'separate the letters before {bound} to the bottom side',
    ],
    'stack-all-blocks': [
        'stack all the blocks',
        'put all the blocks in one stack',
        'stack the blocks',
        'make a tower of all the blocks',
        'stack every block on top of each other',
        'build a tower with the blocks',
    ],
    'blocks-on-place': [
        'put all the blocks on the {p}',
        'move all the blocks to the {p}',
        'place every block on the {p}',
        'gather the blocks on the {p}',
        'push all the blocks to the {p}',
    ],
    'matching-bowls': [
        'put the blocks in the bowls with matching colours',
        'place each block in the bowl of the same colour',
        'put every block into the bowl that matches its colour',
        'sort the blocks into bowls of the same colour',
        'match the blocks to the bowls by colour',
        'put the blocks in bowls with the same colour',
        'put the blocks in the bowls with matching colors',
    ],
    'mismatched-bowls': [
        'put the blocks in the bowls with mismatched colours',
        'place each block in a bowl of a different colour',
        'put every block into a bowl that does not match its colour',
        'put the blocks in bowls with different colours',
        'put the blocks in the bowls with mismatched colors',
    ],
    'different-corners': [
        'put the blocks in different corners',
        'move each block to a different corner',
        'spread the blocks out to different corners',
        'place every block in its own corner',
    ],
    'stack-cool-colours': [
        'stack the blocks with cool colours',
        'stack the cool coloured blocks',
        'make a tower of the cool colour blocks',
        'stack the blocks of cool colors',
    ],
    'stack-warm-colours': [
        'stack the blocks with warm colours',
        'stack the warm coloured blocks',
        'make a tower of the warm colour blocks',
        'stack the blocks of warm colors',
    ],
    'primary-colours-left': [
        'put the blocks of primary colours on the left side',
        'move the primary coloured blocks to the left',
        'place the blocks with primary colors on the left side',
        'sort the primary colour blocks to the left',
    ],
    'pack-brown-box': [
        'pack the brown box',
        'put the objects in the brown box',
        'fill the brown box',
        'pack everything into the brown box',
        'put things in the brown box',
    ],
    'pack-boxes': [
        'pack the boxes',
        'put the objects in the boxes',
        'fill the boxes',
        'pack the objects into the boxes',
        'split the objects between the boxes',
    ],
    'snacks-right': [
        'put the snacks on the right side',
        'move the snacks to the right',
        'place all the snacks on the right side',
        'put my snacks to the right',
    ],
    'picnic-box': [
        'pack me a picnic box',
        'pack a picnic in the brown box',
        'get a picnic box ready',
        'put food for a picnic in the brown box',
    ],
    'open-doors': [
        'open the {first} door, then open the {second} door',
        'open the {first} door and then the {second} door',
        'first open the {first} door, then the {second} door',
    ],
    'put-next': [
        'put the {object} next to the {target}',
        'move the {object} next to the {target}',
        'place the {object} beside the {target}',
    ],
    'go-to': [
        'go to the {object}',
        'walk to the {object}',
        'find the {object}',
    ],
    'pick-up': [
        'pick up the {object}',
        'get the {object}',
        'fetch the {object}',
    ],
    'locked-room': [
        'get the {colour} key from the {room} room, unlock the {colour} door and go to the goal',
        'fetch the {colour} key in the {room} room, open the locked {colour} door and reach the goal',
    ],
    'multi-room': [
        'go through the rooms to the goal',
        'traverse the rooms to get to the goal',
        'reach the goal square in the last room',
    ],
    'blocked-unlock-pickup': [
        'pick up the {object}',
        'get the {object} from the locked room',
        'unlock the door and pick up the {object}',
    ],
    'bring': [
        'bring me the {n}',
        'can you bring me the {n}',
        'please get me the {n}',
        'fetch the {n} for me',
        'I want the {n}',
    ],
    'bring-from': [
        'bring me the {n} from the {l}',
        'get me the {n} that is on the {l}',
    ],
    'move': [
        'put the {n} on the {l}',
        'move the {n} to the {l}',
        'take the {n} to the {l}',
    ],
    'throw-away': [
        'throw away the {n}',
        'put the {n} in the trash',
        'throw the {n} in the trash can',
    ],
    'spill': [
        'I spilled my drink, can you help?',
        'I made a mess with my drink, help me clean it',
        'there is a spill on the table, can you help?',
        'I knocked my drink over',
    ],
    'healthy': [
        'bring me something healthy',
        'I want a healthy snack',
        'get me something healthy to eat',
        'can I have a healthy snack?',
    ],
    'thirsty': [
        'I am thirsty',
        'bring me something to drink',
        'can you get me a drink?',
        'I need a drink',
    ],
    'salty': [
        'bring me something salty',
        'I want some chips',
        'get me a salty snack',
    ],
    'caffeine': [
        'I need some caffeine',
        'bring me something with caffeine',
        'I am tired, bring me a drink with caffeine',
    ],
    'fruit': [
        'bring me a fruit',
        'I want some fruit',
        'get me a piece of fruit',
    ],
    'soda': [
        'bring me a soda',
        'I want a fizzy drink',
        'get me a soda can',
    ],
    'energy': [
        'I need energy for my workout',
        'bring me something to give me energy',
    ],
    'clean-table': [
        'the table is dirty',
        'please wipe the table',
        'can you clean up the table?',
    ],
    'recycle': [
        'throw away a can',
        'recycle a can',
        'get rid of an empty can',
    ],
}


def instruction_for(task: Task, plan: Plan, rng: random.Random, noise: ph.Noise, version: int = DEFAULT_VERSION) -> str:
    """One way to say what `plan` does; the values the plan copies are never garbled."""
    say = task.say
    style = ph.STYLES[version]
    slots = dict(say.slots)
    slots.update({k: (lambda v: lambda _: v)(v) for k, v in plan.slots.items()})
    slots.update({k: (lambda v: lambda _: v)(v) for k, v in plan.said.items()})
    slots.update(plan.choices)
    has = {"vp": bool(say.vps), "state": bool(say.states), "whole": bool(say.wholes), "classic": task.name in CLASSIC}
    modes = [(m, w) for m, w in style.modes if has[m]]
    mode = ph.weighted(rng, modes)
    if mode == "vp":
        verb_slot, pattern = rng.choice(list(say.vps))
        verb = rng.choice(list(slots[verb_slot]))
        rest = ph.expand(pattern, rng, slots)
        vp, ing = f"{verb} {rest}", f"{ph.inflect(verb, 'ing')} {rest}"
        text = ph.expand(ph.weighted(rng, style.imperative), rng, {"vp": lambda _: vp, "ing": lambda _: ing})
    elif mode == "state":
        np_pattern, verb_slot, rest_pattern = rng.choice(list(say.states))
        np_ = ph.expand(np_pattern, rng, slots)
        pp = ph.inflect(rng.choice(list(slots[verb_slot])), "ed")
        rest = ph.expand(rest_pattern, rng, slots) if rest_pattern else rng.choice(["", "now", "please"])
        text = ph.expand(ph.weighted(rng, style.state), rng, {"np": lambda _: np_, "pp": lambda _: pp, "rest": lambda _: rest or "now"})
    else:
        source = CLASSIC[task.name] if mode == "classic" else say.wholes
        whole = ph.expand(rng.choice(list(source)), rng, slots)
        text = ph.expand(ph.weighted(rng, style.whole), rng, {"s": lambda _: whole})
    return ph.add_noise(text, rng, plan.copied, noise)


def instruction_line(instruction: str) -> str:
    """The prompt's first line; the Rust prompt builder writes the same."""
    text = " ".join(instruction.split())
    if not text.endswith((".", "?", "!")):
        text += "."
    return f"Instruction: {text}"


def render(instruction: str, steps: List[Tuple[str, bool]], rng: random.Random, fail_rate: float) -> str:
    """The plan text; besides the plan's own failed steps, any step but a find may fail once
    and be retried word for word (a slipped grasp, a blocked move). A find that fails means
    the object is not there: the plan itself says what comes next."""
    lines = [instruction_line(instruction)]
    n = 1
    for s, failed in steps:
        if not failed and s != "done" and not s.startswith("find ") and rng.random() < fail_rate:
            lines.append(f"{n}. {s}. (failed)")
            n += 1
        lines.append(f"{n}. {s}." + (" (failed)" if failed else ""))
        n += 1
    lines.append(f"{n}. done.")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- held out
def held_out_for(version: int) -> ph.HeldOut:
    """What corpus `version` holds out: the paraphrases of bench/paraphrases/ and, from
    version 4 on, the development wordings too (version 4: as they were when its corpus was
    made, dev/v4/; later versions: dev/, and bench/negation/'s requests for nothing)."""
    h = held_out()
    if version == 4:
        held_out(DEV_V4_DIR, into=h)
    elif version > 4:
        held_out(DEV_DIR, into=h)
        held_out_negation(into=h)
    return h


def held_out_slot_values() -> Dict[str, List[str]]:
    """Every value each slot of a held-out paraphrase can take in the simulated episodes
    (tests/paraphrases.rs checks them against the simulator's own: `--slot-values`)."""
    return {
        "place": CORNERS + SIDES,
        "word": sorted(set(SIM_WORDS)),
        "first": GRID_COLOURS, "second": GRID_COLOURS, "colour": GRID_COLOURS, "room": GRID_COLOURS,
        "object": [f"{c} {k}" for c in GRID_COLOURS for k in GRID_OBJECTS],
        "target": [f"{c} {k}" for c in GRID_COLOURS for k in GRID_OBJECTS],
    }


def held_out(root: Path = HELD_OUT_DIR, into: Optional[ph.HeldOut] = None) -> ph.HeldOut:
    """The windows of every held-out paraphrase under `root` (added to `into`), each slot
    filled with every value the simulated episodes (and this corpus) can give it."""
    values = held_out_slot_values()
    h = into if into is not None else ph.HeldOut()
    if not root.exists():
        return h
    for f in sorted(root.glob("*.tsv")):
        for line in f.read_text().splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            _, _, text = line.partition("\t")
            for filled in fill_all(text, values):
                h.add(filled)
    return h


def held_out_negation(path: Path = NEGATION_FILE, into: Optional[ph.HeldOut] = None) -> ph.HeldOut:
    """The windows of bench/negation/'s requests (`scene<TAB>forbidden<TAB>request`)."""
    h = into if into is not None else ph.HeldOut()
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            h.add(line.split("\t")[-1])
    return h


def fill_all(text: str, values: Dict[str, List[str]]) -> List[str]:
    import re
    names = re.findall(r"\{([a-z]+)\}", text)
    if not names:
        return [text]
    name = names[0]
    out = []
    for v in values.get(name, [name]):
        out += fill_all(text.replace("{" + name + "}", v, 1), values)
    return out


# ----------------------------------------------------------------------------- the corpus
DOMAIN_WEIGHTS = {"tabletop": 0.6, "grid": 0.15, "kitchen": 0.25}
# Version 3 adds explicit requests (explicit.py), with a share of their own.
DOMAIN_WEIGHTS_V3 = {"tabletop": 0.5, "explicit": 0.15, "grid": 0.12, "kitchen": 0.23}


def domain_weights(version: int = DEFAULT_VERSION) -> Dict[str, float]:
    return DOMAIN_WEIGHTS_V3 if version >= 3 else DOMAIN_WEIGHTS


@dataclass
class Corpus:
    plans: List[str]
    clashes: int  # instructions drawn again because they touched the held-out set


def build_tasks(wn: Optional[WordNet] = None, version: int = DEFAULT_VERSION,
                orders: str = DEFAULT_ORDERS) -> Dict[str, List[Task]]:
    if version not in VERSIONS:
        raise ValueError(f"corpus version {version} is not one of {VERSIONS}")
    walk_decay(orders)
    lex = Lexicon(wn or WordNet())
    tasks = {"tabletop": tabletop_tasks(lex, version, orders), "grid": grid_tasks(lex, version), "kitchen": kitchen_tasks(lex)}
    if version >= 3:
        import explicit
        tasks["explicit"] = explicit.tasks(sys.modules[__name__], lex)
    if version >= 5:
        import nothing
        # Version 7 draws them twice as often (each listed twice among the domain's tasks).
        times = 2 if version >= 7 else 1
        for domain in ("tabletop", "grid", "kitchen"):
            tasks[domain] += nothing.tasks(sys.modules[__name__], domain) * times
    return tasks


def kitchen_name(rng: random.Random, obj: str) -> str:
    return obj if rng.random() < 0.6 else rng.choice(KITCHEN_ALIASES.get(obj, [obj]))


def generate_corpus(n_plans: int, seed: int, weights=None, fail_rate: float = 0.05,
                    noise: ph.Noise = ph.Noise(), heldout: Optional[ph.HeldOut] = None,
                    tasks: Optional[Dict[str, List[Task]]] = None, version: int = DEFAULT_VERSION) -> Corpus:
    """`n_plans` plan texts of corpus `version`, deterministic for a seed; domains weighted
    by `weights`."""
    rng = random.Random(seed)
    tasks = tasks or build_tasks(version=version)
    heldout = heldout if heldout is not None else held_out_for(version)
    weights = weights or domain_weights(version)
    names = list(weights)
    out, clashes = [], 0
    for _ in range(n_plans):
        domain = rng.choices(names, [weights[n] for n in names])[0]
        t = rng.choice(tasks[domain])
        plan = t.plan(rng)
        if "place" in plan.slots:
            plan.said["p"] = place_phrase(rng, plan.slots["place"])
            plan.copied = [plan.said["p"]]
        if "o" in plan.slots:
            plan.said["n"] = kitchen_name(rng, plan.slots["o"])
            plan.copied = []
        # Redraws only past a clash, so that a larger limit leaves every corpus that never
        # reached it byte-identical (a task with few phrasings, e.g. locked-room, can clash
        # 50 times in a row once in some hundred thousand plans).
        for attempt in range(1000):
            if version >= 3 and attempt and attempt % 100 == 0:
                # What the plan names may be what clashes (an explicit request's place): draw
                # another plan of the task. (Version 3 on; versions 1 and 2 stay as they were.)
                plan = t.plan(rng)
            instruction = instruction_for(t, plan, rng, noise, version)
            if not heldout.clashes(instruction):
                break
            clashes += 1
        else:
            raise RuntimeError(f"{t.name}: every phrasing drawn touches the held-out paraphrases")
        out.append(render(instruction, plan.steps, rng, fail_rate))
    return Corpus(out, clashes)


def generate(n_plans: int, seed: int, weights=None, fail_rate: float = 0.05, version: int = DEFAULT_VERSION) -> List[str]:
    return generate_corpus(n_plans, seed, weights, fail_rate, version=version).plans


def training_corpus(n_plans: int, seed: int, version: int, tasks: Optional[Dict[str, List[Task]]] = None,
                    heldout: Optional[ph.HeldOut] = None, orders: str = DEFAULT_ORDERS) -> Tuple[Corpus, str]:
    """Corpus `version`'s training plans as `--write` makes them (holding out what the
    version holds out; `tasks` and `heldout`, when given, are the version's own, else its
    tasks with letter orders drawn as `orders` says), and the sha256 that training.json
    records of them."""
    heldout = heldout if heldout is not None else held_out_for(version)
    train = generate_corpus(n_plans, seed, heldout=heldout, tasks=tasks or build_tasks(version=version, orders=orders),
                            version=version)
    return train, hashlib.sha256("\n".join(train.plans).encode()).hexdigest()


def instruction_characters(plans: Sequence[str]) -> str:
    """Every character the plans' instruction lines hold (after "Instruction: "), sorted."""
    chars = set()
    for plan in plans:
        for line in plan.split("\n"):
            if line.startswith("Instruction: "):
                chars.update(line[len("Instruction: "):])
    return "".join(sorted(chars))


def main(argv: List[str]) -> int:
    import argparse
    import json
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("count", nargs="?", type=int, default=5, help="plans to print (seed 0)")
    p.add_argument("--write", metavar="DIR", help="write corpus-train.txt and corpus-heldout.txt to DIR")
    p.add_argument("--plans", type=int, default=0, help="training plans (with --write)")
    p.add_argument("--heldout-plans", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--version", type=int, choices=VERSIONS, default=DEFAULT_VERSION,
                   help=f"corpus version (default {DEFAULT_VERSION}, the shipped model's first stage; see VERSIONS)")
    p.add_argument("--orders", type=orders_arg, default=DEFAULT_ORDERS, metavar="uniform|walk-D",
                   help=f"how the letters of a plan that orders them are drawn (default {DEFAULT_ORDERS}, every "
                        f"model shipped so far; walk-0.7: half of them a walk whose steps shrink by 0.7 a letter; "
                        f"see walk_decay)")
    p.add_argument("--task", metavar="NAME", help="print plans of this task only (without --write)")
    p.add_argument("--slot-values", action="store_true",
                   help="print, as JSON, every value each held-out paraphrase slot is filled with")
    a = p.parse_args(argv)
    if a.slot_values:
        print(json.dumps(held_out_slot_values(), indent=1))
        return 0
    if not a.write:
        tasks = build_tasks(version=a.version, orders=a.orders)
        if a.task:
            named = [t for ts in tasks.values() for t in ts if t.name == a.task]
            if not named:
                p.error(f"corpus version {a.version} has no task {a.task!r}; it has "
                        + ", ".join(t.name for ts in tasks.values() for t in ts))
            only = {"only": named}
            plans = generate_corpus(a.count, 0, weights={"only": 1.0}, tasks=only, version=a.version).plans
        else:
            plans = generate_corpus(a.count, 0, tasks=tasks, version=a.version).plans
        for text in plans:
            print(text)
        return 0
    work = Path(a.write)
    work.mkdir(parents=True, exist_ok=True)
    tasks = build_tasks(version=a.version, orders=a.orders)
    h = held_out_for(a.version)
    train, sha = training_corpus(a.plans, a.seed, a.version, tasks=tasks, heldout=h)
    held = generate_corpus(a.heldout_plans, a.seed + 1, heldout=h, tasks=tasks, version=a.version)
    (work / "corpus-train.txt").write_text("\n".join(train.plans))
    (work / "corpus-heldout.txt").write_text("\n".join(held.plans))
    info = {"version": a.version, "train_plans": len(train.plans), "heldout_plans": len(held.plans), "seed": a.seed,
            "corpus_sha256": sha,
            "instructions_redrawn_for_held_out_paraphrases": train.clashes,
            # What the model learned to read in an instruction: grounded reads an
            # instruction's ASCII signs that are not here as it reads an emoji
            # (src/lm/alphabet.rs).
            "instruction_characters": instruction_characters(train.plans)}
    if a.orders != DEFAULT_ORDERS:
        info["orders"] = a.orders
    (work / "corpus.json").write_text(json.dumps(info, indent=2) + "\n")
    print(json.dumps(info))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
