"""Requests for nothing (corpus version 5): what a person says when the robot should do
nothing, and prohibitions that ask for no task ("leave the blue bowl alone"). The plan of
each is `done` at once.

The model never sees the scene, and before version 5 it read every instruction as a task:
"leave the red block alone" moved the red block. Grounding cannot mend that (the model is
sure of a skill the scene allows), and nothing outside the model may read the instruction's
words, so the model learns it here. Sentences are built from parts (an opening, a verb, the
thing named, a closing), the thing drawn from each domain's own objects, so that what the
model learns is the shape of a prohibition, not a list. bench/negation/ holds requests of
this kind written apart from these, which version 5 holds out.
"""

from __future__ import annotations

import random
from typing import Dict, List


# Ways to say "do not": a verb phrase follows.
DONT = ("(don't|do not|never|please don't|please do not|you must not|you mustn't|you shouldn't|"
        "you should not|make sure you don't|be careful not to|try not to|I'd rather you didn't|"
        "I'd prefer you not|you're not to|you are not to|you may not|avoid having to)")
# What may not be done to the thing named, for any domain's object.
HANDLE = ("(touch|move|pick up|take|handle|lift|disturb|bump|knock over|mess with|play with|"
          "relocate|carry|shift|fiddle with|lay a finger on|go near)")
# Whole prohibitions around {thing}; {verb} is the domain's own action on it.
PROHIBITIONS = [
    DONT + " " + HANDLE + " the {thing} [(at all|today|for now|this time|now)]",
    DONT + " {verb} the {thing} [(at all|today|for now|this time|now)]",
    "leave the {thing} (alone|where it is|as it is|untouched|right where it is)",
    "let the {thing} be",
    "the {thing} (stays|should stay|must stay|has to stay|needs to stay|is staying) "
    "(put|where it is|as it is|untouched|there)",
    "(the {thing} is off limits|the {thing} is not to be touched|the {thing} is not to be moved|"
    "the {thing} is fine where it is|nobody touches the {thing}|no one moves the {thing})",
    "I (don't|do not) want (you to {verb}|you touching|anybody moving|anyone to {verb}) the {thing}",
    "(not|no touching|no moving) the {thing}[(, please|, thanks)]",
    "(whatever you do|just so you know|remember|careful|one thing), " + DONT + " {verb} the {thing}",
]
# Requests for no task at all.
NOTHING = [
    "(never mind|forget it|forget about it|scratch that|ignore that|disregard that|no, wait|"
    "actually, never mind|sorry, my mistake|wrong robot, sorry|oops, ignore me)",
    "(do nothing|don't do anything|do not do anything|don't move|do not move|stay still|stay put|"
    "stay idle|hold still|hold your position|wait here|wait a moment|stand by|pause|take a break|"
    "relax|sit tight|freeze|remain still|keep still) [(for now|for a while|please|until I say)]",
    "(leave|keep) (everything|it all|things|all of it|the place|the whole setup) "
    "(as it is|as they are|alone|untouched|the way it is|like that|just so)",
    "(that's all|that is all|that's it|we're done|we are done|all done|no more|enough|finished|"
    "job done|nothing more) [for (now|today)][, (thanks|thank you)]",
    "(thanks|thank you|good job|well done|great work|nice one|perfect|cool|ok|okay|fine|great)",
    "(there is|there's) nothing (to do|for you to do|left to do|to be done)[ (here|now|today)]",
    "(what time is it|how are you|hello|hi there|good morning|good evening|who are you|"
    "can you hear me|are you there|what's your name|how's it going)",
    "no (task|job|work|orders) (for now|today|right now|at the moment)",
    "(not now|maybe later|another time|some other time|later, maybe)",
]


def _things(c) -> Dict[str, List[str]]:
    """What a prohibition can name in each domain (`c`: the corpus module)."""
    blocks = [f"{x} block" for x in c.COLOURS] + [f"{x} bowl" for x in c.COLOURS]
    letters = [f"letter {x}" for x in c.LETTERS] + [f"{x} tile" for x in c.LETTERS]
    items = c.PACKABLE + [f"{x} box" for x in c.BOX_COLOURS]
    grid = [f"{x} {k}" for x in c.GRID_COLOURS for k in c.GRID_OBJECTS + ["door"]]
    return {
        "tabletop": blocks + letters + items,
        "grid": grid,
        "kitchen": list(c.KITCHEN_OBJECTS),
    }


# Each domain's own actions on the thing named.
VERBS = {
    "tabletop": ["move", "pick up", "touch", "stack", "put away", "pack", "rearrange", "place"],
    "grid": ["open", "go to", "pick up", "unlock", "toggle", "walk to", "carry", "drop"],
    "kitchen": ["bring", "fetch", "throw away", "pick up", "get", "move", "hand me", "find"],
}


def tasks(c, domain: str) -> List:
    """The requests for nothing of `domain` as corpus tasks (`c`: the corpus module)."""
    things = _things(c)[domain]

    def plan(rng: random.Random):
        p = c.plain([])
        p.said["thing"] = rng.choice(things)
        p.copied = [p.said["thing"]]
        p.choices["verb"] = VERBS[domain]
        return p

    def nothing(rng: random.Random):
        return c.plain([])

    return [
        c.Task(f"{domain}-forbidden", "nothing", plan, c.Say(wholes=PROHIBITIONS)),
        c.Task(f"{domain}-nothing", "nothing", nothing, c.Say(wholes=NOTHING)),
    ]
