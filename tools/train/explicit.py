"""Explicit tabletop requests (corpus version 3): the user names the objects and where each
goes, instead of a task's goal ("put the blue block in the green bowl", "move the red, yellow
and blue blocks to the left side", "put the apple in the red box, then the pear on the top
side"). A planner that only knows the templates' goals answers such a request with the
nearest template's plan; these teach the model to copy what is named, in the order named.

Three tasks: one object to one place (`named-object`), two or three such steps in a row
(`named-steps`), and a listed group of objects to one place (`named-group`). Objects are
blocks, letters and packable items; places are bowls, other blocks, boxes, the table's
corners and sides, and a letter's position in the row. Plans name them the canonical way
(the sim's skill grammar); instructions name them in the ways people do ("the letter K",
"K", "the K tile"; "the red and blue blocks", "the red block and the blue one").

corpus.py builds these tasks with the others (`build_tasks`); they are said with the same
sentence frames and noise as every task.
"""

from __future__ import annotations

import random
from typing import Dict, List, Sequence, Tuple

ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh"]
JOINERS = [", then", "and then", ", and then", ". Then", "; then", ", after that", "and",
           ", next", ". After that,", ", and after that", ", followed by", "; next,"]


def join(rng: random.Random, parts: Sequence[str], conj: str = "and") -> str:
    """"a, b and c" and the other ways a list is written."""
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        return f"{parts[0]} {rng.choice([conj, conj, conj, '&' if conj == 'and' else conj, 'as well as' if conj == 'and' else conj])} {parts[1]}"
    head = ", ".join(parts[:-1])
    style = rng.random()
    if style < 0.55:
        return f"{head} {conj} {parts[-1]}"
    if style < 0.8:
        return f"{head}, {conj} {parts[-1]}"
    return ", ".join(parts)


class Explicit:
    """Builds explicit plans; `c` is the corpus module (its object sets and skill grammar),
    `lex` its Lexicon."""

    def __init__(self, c, lex):
        self.c, self.lex = c, lex

    # -------------------------------------------------------------- objects as named
    def obj(self, rng: random.Random, kind: str, exclude=()) -> Tuple[str, str]:
        """An object of `kind`: its canonical name and how one instruction names it."""
        c = self.c
        if kind == "block":
            col = rng.choice([x for x in c.COLOURS if x not in exclude])
            noun = rng.choice(["block", "block", "block", "cube", "brick", "toy block"])
            return c.block(col), f"the {col} {noun}"
        if kind == "letter":
            l = rng.choice([x for x in c.LETTERS if x not in exclude])
            said = rng.choice([f"the letter {l}", f"the letter {l}", f"letter {l}", l, f"the {l}",
                               f"the {l} (block|tile)", f"the letter {l} (block|tile)", f"the {l}"])
            return c.letter(l), self.fixed(rng, said)
        item = rng.choice([x for x in c.PACKABLE if x not in exclude])
        return item, f"the {item}"

    def key(self, kind: str, canonical: str) -> str:
        """What `exclude` compares: the colour, the letter, the item."""
        return canonical.split()[-1] if kind == "letter" else canonical.split()[0] if kind == "block" else canonical

    def dest(self, rng: random.Random, kind: str, obj_key: str, group: bool = False) -> Tuple[str, str, List[str], str]:
        """Where an object of `kind` goes: the skill's canonical ending, a pattern of how the
        instruction says it (preposition included; drawn again for each wording), the verbs
        that fit, and the words of it a typo must not touch."""
        c, lex = self.c, self.lex
        choices = {"block": ["bowl", "block", "place"], "letter": ["place", "position"],
                   "item": ["box", "place"]}[kind]
        if group:
            choices = [d for d in choices if d in ("place", "box")]
        where = rng.choice(choices)
        into = "(in|into|inside|in|into|inside of)"
        onto = "(on|onto|on top of|on|onto|atop)"
        if where == "bowl":
            col = rng.choice(c.COLOURS)
            return c.in_(c.bowl(col)), f"{into} the {col} (bowl|bowl|dish)", list(lex.put), col
        if where == "block":
            col = rng.choice([x for x in c.COLOURS if x != obj_key])
            return (c.on(c.block(col)), f"{onto} the {col} (block|block|cube)",
                    list(lex.put) + ["stack", "stack", "pile", "rest", "balance"], col)
        if where == "box":
            col = rng.choice(c.BOX_COLOURS)
            return c.in_(f"{col} box"), f"{into} the {col} (box|box|carton|crate)", list(lex.put) + list(lex.pack), col
        if where == "position":
            n = rng.randint(1, 7)
            said = rng.choice([f"(at|in|into|to) position {n}", f"(at|in|into) spot {n}",
                               f"(in|into|at) the {ORDINALS[n - 1]} (position|spot|place|slot)",
                               f"(at|in) position number {n}"])
            return c.at(n), said, list(lex.put) + list(lex.move), str(n)
        place = rng.choice(c.CORNERS + c.SIDES)
        said = c.place_phrase(rng, place)
        return (c.on(place), f"(on|onto|to|over to|toward|towards|across to|in|into|over onto) the {said}",
                list(lex.put) + list(lex.move), said)

    # -------------------------------------------------------------- plans
    def one(self, rng: random.Random):
        kind = rng.choice(["block", "block", "letter", "item"])
        canon, said = self.obj(rng, kind)
        end, to, verbs, keep = self.dest(rng, kind, self.key(kind, canon))
        p = self.c.Plan({}, [(self.c.skill(canon, end), False)])
        p.said["obj"] = said
        p.choices.update(V=verbs, todest=[to])
        p.copied = [self.key(kind, canon), keep]
        return p

    def steps(self, rng: random.Random):
        n = rng.choice([2, 2, 2, 3])
        used: Dict[str, List[str]] = {"block": [], "letter": [], "item": []}
        steps, clauses = [], []
        for _ in range(n):
            kind = rng.choice(["block", "block", "letter", "item"])
            canon, said = self.obj(rng, kind, exclude=used[kind])
            used[kind].append(self.key(kind, canon))
            end, to, verbs, keep = self.dest(rng, kind, self.key(kind, canon))
            steps.append((self.c.skill(canon, end), False))
            clauses.append((said, to, verbs, [self.key(kind, canon), keep]))
        p = self.c.Plan({}, steps)
        first = clauses[0]
        rest = ""
        for said, to, verbs, _keep in clauses[1:]:
            j = rng.choice(JOINERS)
            if j.endswith("followed by"):
                rest += f" {j} {said} {to}"
            elif rng.random() < 0.6:
                verb = rng.choice(verbs)
                rest += f" {j} {verb} {said} {to}"
            else:
                rest += f" {j} {said} {to}"
        p.said["obj"] = first[0]
        p.choices.update(V=first[2], todest=[first[1]], then=[rest])
        p.copied = [x for cl in clauses for x in cl[3]]
        return p

    def group(self, rng: random.Random):
        kind = rng.choice(["block", "block", "letter", "item"])
        k = rng.choice([2, 2, 3, 3, 4])
        canons: List[str] = []
        keys: List[str] = []
        for _ in range(k):
            canon, _said = self.obj(rng, kind, exclude=keys)
            canons.append(canon)
            keys.append(self.key(kind, canon))
        end, to, verbs, keep = self.dest(rng, kind, "", group=True)
        p = self.c.Plan({}, [(self.c.skill(o, end), False) for o in canons])
        p.said["list"] = self.listed(rng, kind, keys)
        p.choices.update(V=verbs, todest=[to])
        p.copied = keys + [keep]
        return p

    def listed(self, rng: random.Random, kind: str, keys: List[str]) -> str:
        """A group of objects as people list them."""
        if kind == "block":
            noun = rng.choice(["blocks", "blocks", "cubes", "bricks"])
            one = noun[:-1]
            forms = [f"the {join(rng, keys)} {noun}", f"{join(rng, keys)} {noun}",
                     join(rng, [f"the {x} {one}" for x in keys]),
                     join(rng, [f"the {keys[0]} {one}"] + [f"the {x} one" for x in keys[1:]]),
                     f"the {noun} that are {join(rng, keys, 'or')}", f"the {join(rng, keys, 'or')} {noun}"]
            if len(keys) == 2:
                forms.append(f"both the {keys[0]} and [the] {keys[1]} {noun}")
        elif kind == "letter":
            tiles = rng.choice(["letters", "letters", "tiles", "letter blocks", "letter tiles"])
            forms = [f"the letters {join(rng, keys)}", join(rng, keys), f"the {join(rng, keys)} {tiles}",
                     join(rng, [f"the letter {x}" for x in keys]), join(rng, [f"the {x}" for x in keys]),
                     f"letters {join(rng, keys)}", f"the {tiles} {join(rng, keys)}"]
        else:
            forms = [join(rng, [f"the {x}" for x in keys]), f"the {join(rng, keys)}"]
        return self.fixed(rng, rng.choice(forms))

    def fixed(self, rng: random.Random, pattern: str) -> str:
        """One wording of `pattern`, fixed for the plan."""
        return self.c.ph.expand(pattern, rng, {})


def tasks(c, lex) -> list:
    """The explicit tasks, as corpus.Task values."""
    x = Explicit(c, lex)
    say = c.Say
    slots = dict(c.tabletop_slots(lex), TAKE=lex.take)
    verb_vps = [("V", "{obj} {todest}")]
    one = say(
        vps=verb_vps + [("TAKE", "{obj} and (place|put|set|drop|leave|move) (it|it|that) {todest}")],
        states=[("{obj}", "V", "{todest}")],
        wholes=["{obj} (goes|belongs|should go|needs to go|has to go|must go|should be) {todest}",
                "{obj} {todest}", "(take|grab|get) {obj} and (put|place|drop) it {todest}"],
        slots=slots)
    steps = say(
        vps=[("V", "{obj} {todest} {then}")],
        wholes=["first[,] (put|place|move|set) {obj} {todest} {then}", "{obj} {todest} {then}",
                "(take|grab|pick up) {obj} and (put|place|drop) it {todest} {then}"],
        slots=slots)
    group = say(
        vps=[("V", "{list} {todest}"), ("TAKE", "{list} and (place|put|set|drop|move) (them|them|those) {todest}")],
        states=[("{list}", "V", "{todest}")],
        wholes=["{list} (go|belong|should go|need to go|have to go|must go|should be) {todest}",
                "{list} {todest}", "(take|grab|get) {list} and (put|place|drop) them {todest}"],
        slots=slots)
    return [c.Task("named-object", "explicit", x.one, one),
            c.Task("named-steps", "explicit", x.steps, steps),
            c.Task("named-group", "explicit", x.group, group)]
