"""Corpus of instruction -> numbered plan texts for the three domains of PAPER.md.

The corpus is scene-agnostic, as in the paper: every plan names objects drawn at random from
the domain's whole object set, so a model trained on it learns how plans go for an
instruction (which kinds of skills, in which order, how objects relate: a block goes to the
bowl of the *same* colour) but never what is actually on the table. Only grounded models can
make its plans feasible.

Text format (one plan; the Rust decoder builds exactly this prompt, see src/prompt.rs):

    Instruction: put the blocks in the bowls with matching colours.
    1. pick up the red block and place it in the red bowl.
    2. pick up the blue block and place it in the blue bowl.
    3. done.

A small share of plans holds a failed step, written as "N. <skill>. (failed)" and followed
by a retry, so that a closed-loop controller can record failures in the plan text.

The skill grammar here must match the Rust one (protocol/src/tabletop.rs and friends); the
Rust test `corpus_sample_parses` checks a sample of this output against it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable, List, Tuple

# ----------------------------------------------------------------------------- tabletop
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
WORDS = ["hi", "world", "left", "right", "top", "down", "love", "you"]
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


@dataclass
class Template:
    name: str
    family: str
    paraphrases: List[str]
    plan: Callable[[random.Random, str], Tuple[str, List[str]]]


def pick(rng: random.Random, items, lo: int, hi: int):
    k = rng.randint(lo, min(hi, len(items)))
    return rng.sample(items, k)


def fill(instruction: str, **kw) -> str:
    return instruction.format(**kw)


def tt_stack_all(rng, p):
    cs = pick(rng, COLOURS, 2, 5)
    return fill(p), [skill(block(cs[i]), on(block(cs[i - 1]))) for i in range(1, len(cs))]


def tt_all_on_place(rng, p):
    place = rng.choice(CORNERS + SIDES)
    cs = pick(rng, COLOURS, 1, 5)
    return fill(p, place=place), [skill(block(c), on(place)) for c in cs]


def tt_matching(rng, p):
    cs = pick(rng, COLOURS, 1, 5)
    return fill(p), [skill(block(c), in_(bowl(c))) for c in cs]


def tt_mismatched(rng, p):
    cs = pick(rng, COLOURS, 2, 5)
    bowls = cs[1:] + cs[:1]  # a derangement: every block to a bowl of another colour
    return fill(p), [skill(block(c), in_(bowl(b))) for c, b in zip(cs, bowls)]


def tt_corners(rng, p):
    cs = pick(rng, COLOURS, 2, 4)
    corners = rng.sample(CORNERS, len(cs))
    return fill(p), [skill(block(c), on(k)) for c, k in zip(cs, corners)]


def tt_stack_group(group):
    def plan(rng, p):
        cs = pick(rng, group, 2, 4)
        return fill(p), [skill(block(cs[i]), on(block(cs[i - 1]))) for i in range(1, len(cs))]
    return plan


def tt_primary_left(rng, p):
    cs = pick(rng, PRIMARY, 1, 3)
    return fill(p), [skill(block(c), on("left side")) for c in cs]


def letters_in_order(rng, p, reverse=False):
    ls = sorted(pick(rng, LETTERS, 2, 5), reverse=reverse)
    return fill(p), [skill(letter(l), at(i + 1)) for i, l in enumerate(ls)]


def tt_spell_word(rng, p):
    word = rng.choice(WORDS)
    # "as much as you can": sometimes a letter is missing and the plan skips it
    letters = [c.upper() for c in word]
    kept = [(i, l) for i, l in enumerate(letters) if rng.random() > 0.15] or [(0, letters[0])]
    return fill(p, word=word), [skill(letter(l), at(i + 1)) for i, l in kept]


def tt_spell_sport(rng, p):
    word = rng.choice(SPORTS)
    return fill(p), [skill(letter(c.upper()), at(i + 1)) for i, c in enumerate(word)]


def letters_to(group, place):
    def plan(rng, p):
        ls = pick(rng, group, 1, 4)
        return fill(p), [skill(letter(l), on(place)) for l in ls]
    return plan


def tt_less_than(rng, p):
    bound = rng.choice(LETTERS[2:8])
    below = [l for l in LETTERS if l < bound]
    ls = sorted(pick(rng, below, 1, 3))
    return fill(p, bound=bound), [skill(letter(l), on("bottom side")) for l in ls]


def tt_pack_brown(rng, p):
    items = pick(rng, PACKABLE, 1, 5)
    return fill(p), [skill(o, in_("brown box")) for o in items]


def tt_pack_boxes(rng, p):
    items = pick(rng, PACKABLE, 2, 5)
    boxes = rng.sample(BOX_COLOURS, 2)
    return fill(p), [skill(o, in_(f"{boxes[i % 2]} box")) for i, o in enumerate(items)]


def tt_snacks_right(rng, p):
    items = pick(rng, SNACKS, 1, 4)
    return fill(p), [skill(o, on("right side")) for o in items]


def tt_picnic(rng, p):
    items = pick(rng, FRUIT + SNACKS, 1, 5)
    return fill(p), [skill(o, in_("brown box")) for o in items]


TABLETOP = [
    # Letters
    Template("alphabetical-order", "letters", [
        "put the letters in alphabetical order", "arrange the letters in alphabetical order",
        "sort the letters alphabetically", "line up the letters from A to Z",
        "order the letters alphabetically", "place the letters in alphabetical order",
    ], lambda r, p: letters_in_order(r, p)),
    Template("spell-word", "letters", [
        "spell as much of the word {word} as you can", "spell the word {word}",
        "use the letters to spell {word}", "make the word {word} with the letters",
        "spell out {word} with the letter blocks",
    ], tt_spell_word),
    Template("separate-vowels", "letters", [
        "separate the vowels from the other letters", "put the vowels on the left side",
        "move the vowels to the left", "pull the vowels out to the left side",
    ], letters_to(VOWELS, "left side")),
    Template("reverse-alphabetical-order", "letters", [
        "put the letters in reverse alphabetical order", "sort the letters from Z to A",
        "arrange the letters in reverse alphabetical order", "order the letters backwards",
    ], lambda r, p: letters_in_order(r, p, reverse=True)),
    Template("spell-sport", "letters", [
        "spell a sport", "use the letters to spell the name of a sport",
        "spell any sport with the letters", "make the name of a sport with the letters",
    ], tt_spell_sport),
    Template("symmetric-letters", "letters", [
        "sort the symmetric letters", "put the symmetric letters on the top side",
        "move the letters that are symmetric to the top",
        "separate the symmetric letters to the top side",
    ], letters_to(SYMMETRIC, "top side")),
    Template("separate-consonants", "letters", [
        "separate the consonants from the other letters",
        "put the consonants on the right side", "move the consonants to the right",
        "pull the consonants out to the right side",
    ], letters_to([l for l in LETTERS if l not in VOWELS], "right side")),
    Template("letters-less-than", "letters", [
        "put the letters that come before {bound} on the bottom side",
        "move the letters less than {bound} to the bottom",
        "separate the letters before {bound} to the bottom side",
    ], tt_less_than),
    # Blocks & Bowls
    Template("stack-all-blocks", "blocks-and-bowls", [
        "stack all the blocks", "put all the blocks in one stack", "stack the blocks",
        "make a tower of all the blocks", "stack every block on top of each other",
        "build a tower with the blocks",
    ], tt_stack_all),
    Template("blocks-on-place", "blocks-and-bowls", [
        "put all the blocks on the {place}", "move all the blocks to the {place}",
        "place every block on the {place}", "gather the blocks on the {place}",
        "push all the blocks to the {place}",
    ], tt_all_on_place),
    Template("matching-bowls", "blocks-and-bowls", [
        "put the blocks in the bowls with matching colours",
        "place each block in the bowl of the same colour",
        "put every block into the bowl that matches its colour",
        "sort the blocks into bowls of the same colour",
        "match the blocks to the bowls by colour",
        "put the blocks in bowls with the same colour",
        "put the blocks in the bowls with matching colors",
    ], tt_matching),
    Template("mismatched-bowls", "blocks-and-bowls", [
        "put the blocks in the bowls with mismatched colours",
        "place each block in a bowl of a different colour",
        "put every block into a bowl that does not match its colour",
        "put the blocks in bowls with different colours",
        "put the blocks in the bowls with mismatched colors",
    ], tt_mismatched),
    Template("different-corners", "blocks-and-bowls", [
        "put the blocks in different corners", "move each block to a different corner",
        "spread the blocks out to different corners", "place every block in its own corner",
    ], tt_corners),
    Template("stack-cool-colours", "blocks-and-bowls", [
        "stack the blocks with cool colours", "stack the cool coloured blocks",
        "make a tower of the cool colour blocks", "stack the blocks of cool colors",
    ], tt_stack_group(COOL)),
    Template("stack-warm-colours", "blocks-and-bowls", [
        "stack the blocks with warm colours", "stack the warm coloured blocks",
        "make a tower of the warm colour blocks", "stack the blocks of warm colors",
    ], tt_stack_group(WARM)),
    Template("primary-colours-left", "blocks-and-bowls", [
        "put the blocks of primary colours on the left side",
        "move the primary coloured blocks to the left",
        "place the blocks with primary colors on the left side",
        "sort the primary colour blocks to the left",
    ], tt_primary_left),
    # Box packing
    Template("pack-brown-box", "box-packing", [
        "pack the brown box", "put the objects in the brown box", "fill the brown box",
        "pack everything into the brown box", "put things in the brown box",
    ], tt_pack_brown),
    Template("pack-boxes", "box-packing", [
        "pack the boxes", "put the objects in the boxes", "fill the boxes",
        "pack the objects into the boxes", "split the objects between the boxes",
    ], tt_pack_boxes),
    Template("snacks-right", "box-packing", [
        "put the snacks on the right side", "move the snacks to the right",
        "place all the snacks on the right side", "put my snacks to the right",
    ], tt_snacks_right),
    Template("picnic-box", "box-packing", [
        "pack me a picnic box", "pack a picnic in the brown box",
        "get a picnic box ready", "put food for a picnic in the brown box",
    ], tt_picnic),
]

# ----------------------------------------------------------------------------- grid maze
GRID_COLOURS = ["red", "green", "blue", "purple", "yellow", "grey"]
GRID_OBJECTS = ["key", "ball", "box"]


def gobj(rng, kinds=GRID_OBJECTS):
    return f"{rng.choice(GRID_COLOURS)} {rng.choice(kinds)}"


def g_open_doors(rng, p):
    a, b = rng.sample(GRID_COLOURS, 2)
    return fill(p, a=a, b=b), [f"go to the {a} door", f"open the {a} door",
                               f"go to the {b} door", f"open the {b} door"]


def g_put_next(rng, p):
    x, y = gobj(rng), gobj(rng)
    while y == x:
        y = gobj(rng)
    return fill(p, x=x, y=y), [f"go to the {x}", f"pick up the {x}", f"go to the {y}",
                               f"put the {x} next to the {y}"]


def g_go_to(rng, p):
    x = gobj(rng)
    return fill(p, x=x), [f"go to the {x}"]


def g_pick_up(rng, p):
    x = gobj(rng)
    steps = [f"go to the {x}", f"pick up the {x}"]
    return fill(p, x=x), steps


def g_locked_room(rng, p):
    key_c, room_c, door_c = rng.choice(GRID_COLOURS), rng.choice(GRID_COLOURS), rng.choice(GRID_COLOURS)
    return fill(p, k=key_c, r=room_c, d=door_c), [
        f"go to the {room_c} door", f"open the {room_c} door", f"go to the {key_c} key",
        f"pick up the {key_c} key", f"go to the {door_c} door", f"open the {door_c} door",
        "go to the goal"]


def g_multi_room(rng, p):
    doors = rng.sample(GRID_COLOURS, rng.randint(2, 5))
    steps = []
    for d in doors:
        steps += [f"go to the {d} door", f"open the {d} door"]
    return fill(p), steps + ["go to the goal"]


def g_blocked_unlock(rng, p):
    box_c, ball_c = rng.choice(GRID_COLOURS), rng.choice(GRID_COLOURS)
    key_c = rng.choice(GRID_COLOURS)
    return fill(p, c=box_c), [
        f"go to the {key_c} key", f"pick up the {key_c} key", f"go to the {ball_c} ball",
        f"drop the {key_c} key", f"pick up the {ball_c} ball", f"drop the {ball_c} ball",
        f"pick up the {key_c} key", f"go to the {key_c} door", f"open the {key_c} door",
        f"drop the {key_c} key", f"go to the {box_c} box", f"pick up the {box_c} box"]


GRID = [
    Template("open-doors", "grid-easy", [
        "open the {a} door, then open the {b} door", "open the {a} door and then the {b} door",
        "first open the {a} door, then the {b} door",
    ], g_open_doors),
    Template("put-next", "grid-easy", [
        "put the {x} next to the {y}", "move the {x} next to the {y}",
        "place the {x} beside the {y}",
    ], g_put_next),
    Template("go-to", "grid-easy", ["go to the {x}", "walk to the {x}", "find the {x}"], g_go_to),
    Template("pick-up", "grid-easy", ["pick up the {x}", "get the {x}", "fetch the {x}"], g_pick_up),
    Template("locked-room", "grid-medium", [
        "get the {k} key from the {r} room, unlock the {d} door and go to the goal",
        "fetch the {k} key in the {r} room, open the locked {d} door and reach the goal",
    ], g_locked_room),
    Template("multi-room", "grid-hard", [
        "go through the rooms to the goal", "traverse the rooms to get to the goal",
        "reach the goal square in the last room",
    ], g_multi_room),
    Template("blocked-unlock-pickup", "grid-hard", [
        "pick up the {c} box", "get the {c} box from the locked room",
        "unlock the door and pick up the {c} box",
    ], g_blocked_unlock),
]

# ----------------------------------------------------------------------------- kitchen
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


def bring(obj, place="user"):
    return [f"find the {obj}", f"pick up the {obj}", f"go to the {place}", f"put down the {obj}"]


def k_bring(rng, p):
    o = rng.choice(KITCHEN_OBJECTS)
    return fill(p, o=o), bring(o)


def k_bring_from(rng, p):
    o, loc = rng.choice(KITCHEN_OBJECTS), rng.choice(KITCHEN_LOCATIONS[:3])
    return fill(p, o=o, l=loc), [f"go to the {loc}", f"pick up the {o}", "go to the user",
                                  f"put down the {o}"]


def k_move(rng, p):
    o, loc = rng.choice(KITCHEN_OBJECTS), rng.choice(KITCHEN_LOCATIONS[:3])
    return fill(p, o=o, l=loc), bring(o, loc)


def k_throw(rng, p):
    o = rng.choice(KITCHEN_OBJECTS)
    return fill(p, o=o), bring(o, "trash can")


def k_from_group(group, place="user"):
    def plan(rng, p):
        return fill(p), bring(rng.choice(group), place)
    return plan


KITCHEN = [
    Template("bring", "kitchen-unambiguous", [
        "bring me the {o}", "can you bring me the {o}", "please get me the {o}",
        "fetch the {o} for me", "I want the {o}",
    ], k_bring),
    Template("bring-from", "kitchen-unambiguous", [
        "bring me the {o} from the {l}", "get me the {o} that is on the {l}",
    ], k_bring_from),
    Template("move", "kitchen-unambiguous", [
        "put the {o} on the {l}", "move the {o} to the {l}", "take the {o} to the {l}",
    ], k_move),
    Template("throw-away", "kitchen-unambiguous", [
        "throw away the {o}", "put the {o} in the trash", "throw the {o} in the trash can",
    ], k_throw),
    Template("spill", "kitchen-ambiguous", [
        "I spilled my drink, can you help?", "I made a mess with my drink, help me clean it",
        "there is a spill on the table, can you help?", "I knocked my drink over",
    ], k_from_group(["sponge", "towel"])),
    Template("healthy", "kitchen-ambiguous", [
        "bring me something healthy", "I want a healthy snack", "get me something healthy to eat",
        "can I have a healthy snack?",
    ], k_from_group(HEALTHY)),
    Template("thirsty", "kitchen-ambiguous", [
        "I am thirsty", "bring me something to drink", "can you get me a drink?",
        "I need a drink",
    ], k_from_group(DRINKS)),
    Template("salty", "kitchen-ambiguous", [
        "bring me something salty", "I want some chips", "get me a salty snack",
    ], k_from_group(CHIPS)),
    Template("caffeine", "kitchen-ambiguous", [
        "I need some caffeine", "bring me something with caffeine",
        "I am tired, bring me a drink with caffeine",
    ], k_from_group(["coke can", "pepsi can", "tea can", "red bull can"])),
    Template("fruit", "kitchen-ambiguous", [
        "bring me a fruit", "I want some fruit", "get me a piece of fruit",
    ], k_from_group(["apple", "orange", "banana"])),
    Template("soda", "kitchen-ambiguous", [
        "bring me a soda", "I want a fizzy drink", "get me a soda can",
    ], k_from_group(["coke can", "pepsi can", "sprite can", "lime soda can",
                     "grapefruit soda can"])),
    Template("energy", "kitchen-ambiguous", [
        "I need energy for my workout", "bring me something to give me energy",
    ], k_from_group(["energy bar", "red bull can", "banana"])),
    Template("clean-table", "kitchen-ambiguous", [
        "the table is dirty", "please wipe the table", "can you clean up the table?",
    ], k_from_group(["sponge", "towel"], "table")),
    Template("recycle", "kitchen-ambiguous", [
        "throw away a can", "recycle a can", "get rid of an empty can",
    ], k_from_group(CANS, "trash can")),
]

DOMAINS = {"tabletop": TABLETOP, "grid": GRID, "kitchen": KITCHEN}


def instruction_line(instruction: str) -> str:
    """The prompt's first line; the Rust prompt builder writes the same."""
    text = instruction.strip()
    if not text.endswith((".", "?", "!")):
        text += "."
    return f"Instruction: {text}"


def render(instruction: str, steps: List[str], rng: random.Random, fail_rate: float) -> str:
    lines = [instruction_line(instruction)]
    n = 1
    for s in steps:
        if rng.random() < fail_rate:
            lines.append(f"{n}. {s}. (failed)")
            n += 1
        lines.append(f"{n}. {s}.")
        n += 1
    lines.append(f"{n}. done.")
    return "\n".join(lines) + "\n"


def generate(n_plans: int, seed: int, weights=None, fail_rate: float = 0.05) -> List[str]:
    """`n_plans` plan texts, deterministic for a seed; domains weighted by `weights`."""
    rng = random.Random(seed)
    weights = weights or {"tabletop": 0.6, "grid": 0.2, "kitchen": 0.2}
    names = list(weights)
    out = []
    for _ in range(n_plans):
        domain = rng.choices(names, [weights[n] for n in names])[0]
        t = rng.choice(DOMAINS[domain])
        phrase = rng.choice(t.paraphrases)
        instruction, steps = t.plan(rng, phrase)
        out.append(render(instruction, steps, rng, fail_rate))
    return out


if __name__ == "__main__":
    import sys
    for text in generate(int(sys.argv[1]) if len(sys.argv) > 1 else 5, seed=0):
        print(text)
