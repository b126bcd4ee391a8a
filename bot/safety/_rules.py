"""High-precision rules for messages that need a safety reply before anything else.

The rules run on canonical text (see ``bot.matching._normalize``): "can't" is "cannot", "I'm" is "i am",
brand names are generic names. Everyday idioms ("these hot flashes are killing me", "dying to know") are
taken out first, and questions about risk, the past or someone's history do not count as an emergency
happening now. What the rules miss, the semantic layer (``_semantic``) is there to catch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CRISIS = "crisis"
URGENT = "urgent"


@dataclass(frozen=True)
class RuleHit:
    """A rule's finding: the alarm kind and, for urgent ones, what sort of emergency."""

    kind: str  # CRISIS or URGENT
    reason: str  # "crisis", "weak_crisis", "overdose", "pet", "injury"


# Said by someone who has finished their course of tablets, "i won't be needing them" is good news.
_FINISHED = (
    r"(?!.*\b(finished|completed|come to the end of|coming to the end of|done with|last (tablet|pill|dose) of) (my |the |all )?"
    r"(\d+ |five |5 |ten |10 )?(years?|yrs?|course|treatment|tablets|letrozole|anastrozole|exemestane)\b)"
)
# Said by someone travelling, "i won't be here for my scan" asks to move it.
_AWAY = (
    r"(?!.*\b(holiday|holidays|vacation|travel|travelling|traveling|trip|abroad|visiting|moving house|"
    r"mov(e|ed|ing) (\w+ ){0,2}(to|house|home|abroad|away|in with|nearer|closer)|emigrating|relocating|switching|"
    r"transferring|new (clinic|hospital|town|city|area|practice|surgery|doctor|gp|job|team)|away for|away on|at work|working|wedding|conference|cruise)\b)"
)

_CRISIS = [
    r"\b(want|wanna|wish|going|ready|trying|tempted|plan(ning)?|thinking (about|of)|thought (about|of)) "
    r"(to |how to |how i (would |will |could |might |am going to )?)?"
    r"(die|be dead|end (it|it all|things|my life|everything)|kill (my ?self|me)|not (be here|exist|wake up))",
    r"\bkill?(ing|s)? (my ?self|me)\b",
    r"\bkms\b",
    r"\b(suicid|sucid|suicd|suecid|suiced|sucide|siucid)",
    r"\bwants? to (die|dye|di|be dead|end it)\b",
    r"\bno (reason|point) (to|in) (keep going|keeping going|go on|going on|carry on|live|living|be here)\b",
    r"\bkill?(ing|s)? (herself|himself|themselves|themself)\b",
    r"\b(goodbye|good bye|suicide) (letter|letters|note|notes)\b",
    r"\b(what is|whats) the point (of|in) (\w+ ){0,3}(anymore|any more)\b",
    r"\b(tired|sick) of (fighting|trying|everything|it all)\b",
    r"\bnever come back\b",
    r"\b(sleep|go to sleep) (forever|for good|and never)\b",
    r"\bthinking (about|of) (ending|end) (it|things|my life|everything)\b",
    r"\b(what is|whats|see) the point (of|in) (living|life|going on|carrying on|being here|anything)\b",
    r"\bwant (it|this|everything|it all) (all )?to be over\b",
    r"\b(not|never) wake up\b",
    r"\bdone with (life|living|everything|it all)\b",
    r"\bdisappear (for good|forever)\b",
    r"\b(nobody|no one|noone) (would|will) (miss|notice|care)\b.*\b(gone|dead|died|disappeared)\b",
    r"\bif i (was|were) (gone|dead)\b",
    r"\bunalive\b",
    r"\bend(ing)? (it all|my life|my own life|things for good)\b",
    r"\b(take|taking|took) my (own )?life\b",
    r"\b(do not|dont|no longer) want to (live|be alive|be here|exist|wake up|go on|carry on)\b",
    r"\b(cannot|can not|cant|could not) (go on|carry on|keep going|do this any ?more|take (it|this) any ?more|"
    r"cope any ?more|live like this)\b",
    r"\b(no|not any|dont see (the|any)|do not see (the|any)|see no|lost (the|all)) (point|reason|will) "
    r"(in |to )?(living|live|go(ing)? on|carry(ing)? on|being alive|life|anymore|any more)\b",
    r"\bno (point|reason) (anymore|any more)\b",
    r"\bbetter off (dead|without me)\b",
    r"(?<!did not )(?<!didnt )(?<!not )(?<!never )(?<!without )(?<!nearly )(?<!almost )"
    r"\b(hurt|hurting|harm|harming|cut|cutting|injure|injuring) (my ?self)\b(?! (when|while) (i |she |he )?(fell|fall|falling|tripped|slipped|gardening|lifting|cleaning|exercising))"
    r"(?! (badly |quite badly |accidentally )?on (some |the |a )?(broken )?(glass|tin|can|edge|corner|paper|fence|wire|bramble))"
    r"(?! (in|on|at) (the|a|my) (garden|gym|fall|kitchen|stairs))",
    r"\bself ?harm",
    r"\b(tired|sick) of (living|being alive|life)\b",
    r"\blife (is|isnt|is not) (not )?worth (living|it)\b",
    r"\b(nothing|nobody|no one) to live for\b",
    r"\bwant (it|everything|this) (all )?to (end|stop) (for good|forever|permanently)\b",
    r"\b(give|giving) up on (life|living|everything)\b",
    r"\bdisappear forever\b",
    r"\bi am a burden\b",
]

_CRISIS_EXTRA = [
    r"\bwant (it|this|everything|it all) (all )?to (end|stop|be over)\b",
    r"\bwant to (stop|quit) (living|being alive|existing)\b(?! like (a|an)\b)",
    r"\b(stop|quit) living( like this)?\b(?! like (a|an)\b).*\b(want|wish|going to|thinking)\b"
    r"|\b(want|wish|going) to stop living\b(?! like (a|an)\b)",
    r"\b(wish|hope) i (was|were|would be|could be) dead\b",
    r"\b(wish|hope) i (would not|did not|do not|never) wake up\b",
    r"\b(saving|saved|stockpiling|stockpiled|hoarding|hoarded|collecting|stashing|keeping) (up )?(my |her |his |all (my|her|his|the) )?"
    r"(pills|tablets|meds|medicine|sleeping pills|painkillers)\b",
    r"\b(wrote|written|writing|left) (a |my |her |his )?(goodbye|farewell|last) (letter|note|message)",
    r"\b(giving|gave|give) (away )?(all )?(my|her|his) (things|stuff|belongings) away\b|\bgiving away (all )?(my|her|his) (things|stuff|belongings)\b",
    "^" + _AWAY + r".*\b(will not|wont|would not) be (around|here) (for|by|much longer|anymore|any more)\b",
    r"\b(want|going|plan|planning|thinking (about|of)|tempted) (to )?(take|taking) (an )?overdose\b",
    r"\b(want|going|plan|planning|thinking (about|of)|tempted) (to )?(overdose|overdosing|od)\b",
    r"\b(take|taking|swallow|swallowing) (them )?all (of )?(my|her|his|the|them|at once)\b.*\b(end|die|gone|over|sleep|for good)\b",
    r"\b(take|taking|swallow) (all|the whole|a whole|every one of) (my|the) (pills|tablets|meds)\b.*\b(end|die|gone|over|sleep|for good|at once)\b",
    r"\b(thinking|thought|thoughts) (about|of) (killing|hurting|harming|ending)\b",
    r"(?<!should i )(?<!can i )(?<!do i )(?<!could i )(?<!ok to )\b(take|taking|swallow|swallowing) (all|the whole|a whole|"
    r"every one of|all of) (my|the|her|his) (pills|tablets|meds|medicine|sleeping pills|painkillers)\b"
    r"(?! (in the morning|at night|with food|at the same time|every day|daily|together|with water))",
    r"\bsuicidal\b",
    r"\b(jump|jumping) (off|from|in front of)\b",
    r"\b(hang|hanging) (my ?self|herself|himself)\b",
    r"\bwant (out|to go to sleep and not)\b",
    r"\b(everyone|everybody|my family|they|kids) (would|will) be better off\b",
    r"\bno (way|reason) out\b",
    r"\b(putting|put|set|setting) (aside|away|by) (my |her |his |all (my|her|his) )?(sleeping )?(pills|tablets|meds|painkillers)\b",
    r"\b(there are|i have|ive got|i have got|got) enough (pills|tablets|meds)( now)?\b|\benough (pills|tablets) (now|saved|to)\b",
    r"\b(pills|tablets|meds) (all )?(counted|lined up|laid) out\b",
    "^" + _AWAY + r".*\b(my |this is (probably |likely )?(my )?)last (message|text|goodbye)\b",
    r"\b(ready to go|time to go now|not be here tomorrow|wont see (you|me) again|will not see (you|me) again)\b",
    r"\b(know|decided|worked out|planned) (how|when|where) (i will|ill|i am going to|im going to|to) (do it|end it|go)\b",
    r"\b(already )?(know|decided) how i (will|would|am going to) do it\b",
    r"\b(steer|drive|driving|steering|crash|crashing) (the car )?(into|off) (the |a )?(river|bridge|wall|tree|lorry|truck|cliff|oncoming)\b",
    r"\b(sorted|sorting|put) (out )?(my|her|his) (affairs|funeral|will)\b.*\b(before|nothing left|ready|end|go)\b",
    r"\b(nothing|no one|nobody) (left )?(to live for|keeping me here)\b",
    r"\bsay(ing)? goodbye to (everyone|everybody|all)\b",
    r"\b(better|easier) (life|lives|off) without me\b",
    r"\b(sorry for everything)\b.*\b(look after|take care of|goodbye|love you)\b",
    r"\bno reason (for me )?to be (alive|here)\b",
    r"\b(keeping|saving|hiding) (them|the pills|the tablets) for (when|later|the end)\b",
    "^"
    + _FINISHED
    + r".*\b(will not|wont|would not|wouldnt) be needing (any of )?(it|them|this|that|my things|anything)\b",
    r"\b(do not|dont|no longer) want to (keep|go on|carry on) (living|being alive|existing|like this)\b",
    r"\b(swallow|take|taking|swallowing) the (whole|entire) (box|packet|bottle|lot|strip)\b",
    r"\bbe done with (it all|everything|life)\b|\b(and|to) be done with it\b.*\b(pills|tablets|box|swallow|end)\b"
    r"|\b(pills|tablets|box|swallow)\b.*\bbe done with it\b",
    r"\b(looking|looked|look) up how many (of my |of the )?(tablets|pills)\b",
    r"\bhow many (of my |of these |of the )?(tablets|pills) (would it take|it would take|does it take|it takes) to\b",
    r"\b(looking|looked|look) up (ways|how) to (die|end it|kill)\b",
    r"\bi hate (my ?self|my life)\b.*\b(hurt|cut|harm|end|die|gone)\b",
    r"\b(most painless|least painful|easiest|quickest|fastest|best|surest) way (to go|to die|to end it|to do it|out)\b",
    r"\b(burn|burned|burnt|cut|scratch|scratched|hit|hurt|bit|punched)\b( \w+){0,4} on purpose\b",
    r"\bto feel something\b.*\b(burn|cut|scratch|hurt|bleed)|\b(burn|cut|scratch|hurt|bleed)\w*\b.*\bto feel something\b",
    r"\b(scratching|scratched|cutting|scraping|scraped|picking) (at )?my (wrists?|arms?|thighs?|legs?|skin)\b.*\b(bleed|blood|raw|helps|on purpose)\b",
    r"\btill (they|it) bleeds?\b",
    r"\b(have|got|have got) the means\b",
    r"\b(how long|how many|how much)\b( \w+){0,5} (does it take|would it take|will it take|to take|it takes) to die\b",
    r"\b(decided|planning|plan|going) not to be (around|here|alive)\b",
    r"\b(bought|got|have|ordered) the (stuff|rope|pills|tablets|things) (already|now|i need|for it)\b",
    r"\b(updated|rewrote|finalised|finalized|sorted out|made) my will\b.*\b(cancelled|canceled|calm|ready|passwords|goodbye|sorted)\b",
    r"\bfeel(ing)? like ending (my|your|their) life\b|\bending my life\b",
    # Warning signs named in crisis-line guidance that the phrases above did not reach.
    r"\b(i am|i will|i shall|going to|gonna|decided to|ready to|about to) end(ing)? it\b"
    r"(?! (with|early|off|there|here|at|for now|and start|and switch))",
    r"\b(started|start|been|keep|kept|back to|went back to|relapsed and) (cutting|burning)( my ?self| again)\b",
    r"\bblades? out of (my|the|a|her|his) (razor|razors|sharpener|pencil sharpener)\b|\brazor blades?\b",
    r"\blooks? like an accident\b",
    r"\b(looked up|looking up|look up|googled|googling|searched|searching|researched|researching|reading|read)( up)?"
    r"( about| on)? how (much|many)\b"
    r".*\b(it would take|would it take|it takes|does it take|it will take)\b"
    r"(?! to (work|kick in|raise|get|build|absorb|show|start|heal|help|reach|see|notice|make|improve|lose|recover|rebuild|increase|strengthen|protect|prevent|feel|clear|leave|wear off|settle|go down|come down|drop|affect|change|lower|bring))",
    r"\b(looking|looked|look|googling|googled|searching|searched|reading|read) (up )?(about )?"
    r"(overdoses|overdosing|how to overdose|lethal doses?|fatal doses?)\b",
    r"\b(whole|entire) (box|packet|bottle|lot|strip)\b.*\b(would it be|is it|will it be) (quick|painless|peaceful|fast)\b",
    r"\b(balcony|bridge|ledge|roof|cliff|platform|railway|tracks)\b.*\b(wonder|wondering|think|thinking|thought)"
    r" (if|whether|how much) it would hurt\b",
    r"\b(will not|wont|would not) be (around|here|alive) (long enough|to see)\b",
    r"\bnoose\b|\b(found|bought|got|have|hid|hidden|put up|tied) (a |the )rope\b",
    r"\bjoin (grandad|grandpa|granddad|my (late )?(husband|wife|mother|father|son|daughter)|him|her|them) "
    r"(soon|in heaven|up there)\b",
    r"\b(tablets|pills|meds|medicine) (are |were )?(hidden|stashed|hoarded)\b|\bhid(den|ing)? (her|his|my) (tablets|pills|meds)\b",
    r"\b(weeks|months) (worth )?of (\w+ ){0,2}(put by|put away|saved up|stashed|set aside|hidden|hoarded)\b",
    r"\b(saving|saved|stockpiling|stockpiled|hoarding|hoarded|stashing|keeping) (up )?(my |her |his )?"
    r"(sleeping|pain|heart|blood pressure|morphine|tramadol|diazepam|insulin) ?(pills|tablets|meds|patches)?\b"
    r"(?! (in|on|for) (the|a|my) (fridge|cupboard|holiday|trip|travel))",
    r"\b(giving|gave|given|give) (away )?(all )?(my|her|his) (jewellery|jewelry|watch|watches|rings?|medals|"
    r"records|tools|collection|books|clothes) (away|to (the|my|our|his|her) \w+)\b.*\b(burden|sorry|will not need|"
    r"wont need|where (i am|she is|he is) going|not eating|stopped eating|goodbye|soon)\b",
    r"\b(apologising|apologizing|apologises|apologizes|keeps saying sorry) for being (a|such a) burden\b"
    r"|\b(feel|feels|feeling) like (a|such a|nothing but a) burden\b",
    r"\b(thank you|thanks) for everything\b.*\blook after (the|my|her|his) (cat|dog|kids|children|pets?|plants)\b",
    r"\b(saving|saved|stockpiling|stockpiled|hoarding|hoarded|stashing|keeping|kept) (up )?((my|her|his) )?(late )?(\w+ s |\w+s )?"
    r"(anastrozole|letrozole|exemestane|morphine|tramadol|codeine|oxycodone|diazepam|insulin|painkillers)\b"
    r"(?! (in|on|for) (the|a|my) (fridge|cupboard|holiday|trip|travel))",
    r"\b(stopped|stopping|quit|quitting|cancelled|canceled) (\w+ ){0,10}(on purpose|deliberately)\b.*"
    r"\b(nature|over|nobody knows|no one knows|let(ting)? (it all |everything )?go|for good)\b"
    r"|\b(stopped|stopping|quit|quitting|cancelled|canceled)\b.*\b(let(ting)? nature take its course|"
    r"letting (it all|everything) go)\b",
    "^" + _AWAY + r".*\b(do not|dont) plan on being (around|here|alive)\b",
    "^"
    + _AWAY
    + r".*\b(will not|wont|would not) be (around|here|alive) (next (week|month)|by (then|christmas|next \w+|the end of)|"
    r"for (long|much longer))\b",
    r"\b(letter|letters|note|notes)\b( \w+){0,3} for after\b|\bnot to open (it |them )?(until|till|before)\b",
    r"\b(giving|gave|given) away (all )?(my|her|his) (things|stuff|belongings|jewellery|jewelry|rings?|wedding ring|"
    r"watch|cat|dog|pets?)\b",
    r"\b(looking|looked|googling|googled|searching|searched|researching|researched|reading|read) (up )?(which|what) "
    r"(of (my|the) )?(meds|medicines|pills|tablets) (are |would be )?(dangerous|deadly|lethal|fatal)\b",
    r"\bsee you on the other side\b(?! of)",
    r"\b(morphine|pills|tablets|meds|medicine|insulin|oxycodone|tramadol|codeine)\b.*\b(i know|i have decided|"
    r"decided) what (i am|i will|i shall) (going to )?(do|doing) with (it|them)\b",
    r"\bis (an overdose|dying) (painless|peaceful|quick)\b"
    r"|\b(overdose|overdosing|dying|die|death|jump|jumping|hang|hanging)\b.*\bis it (painless|peaceful|quick)\b"
    r"|\bis it (painless|peaceful|quick)\b.*\b(overdose|overdosing|dying|die|death|jump|jumping|hang|hanging)\b",
    r"\b(it|everything) would (all )?be over\b(?! (by|in|soon|after|before|within|when|quickly))"
    r"|\b(itd|itll) all be over\b",
    r"\b(looked|looking|googled|googling|read|reading|searched|searching) (up )?how long (it takes|does it take|"
    r"it would take) to bleed out\b|\bbleed(ing)? out\b(?! of)",
    r"\bsay(ing)? goodbye to (people|friends|family|her friends|his friends|my friends)\b",
    r"\b(shotgun|gun|guns|rifle|firearm|pistol)\b.*\b(herself|himself|myself|means it|end it|finish it|take care of it)\b"
    r"|\b(herself|himself|myself|end it|finish it)\b.*\b(shotgun|gun|guns|rifle|firearm|pistol)\b",
    # A fourth tuning set (val4): hoping the illness finishes the job, methods researched, means kept ready.
    r"\b(hoping|hope|want|wish)\b( \w+){0,5} (come|comes|coming) back\b.*\b(take|takes|finish|finishes) (me|her|him|the job)\b",
    r"\b(easier|better|quicker|simpler) than doing it (my|her|him)self\b",
    r"\b(putting|put|setting|set|keeping|kept|saving|saved) (my |her |his )?(\w+ ){1,2}(aside|by|away|up) instead of taking (it|them)\b",
    r"\b(pills|tablets|meds|painkillers) (are |were )?(already )?(put by|put aside|set aside|saved up|stashed)\b",
    r"\baffairs in order\b.*\bbefore (i|she|he) go(es)?\b",
    r"\b(decide|decided|deciding) (you are|youre|i am|im|she is|shes|he is|hes) done\b",
    r"\b(balcony|bridge|ledge|roof|cliff|platform|edge)\b.*\b(standing|sitting|stood|i am) (out )?(here|there)\b.*\bthinking\b",
    r"\b(wish|wishes|wished|hope|hopes) (he|she|they) (was|were|would be|could be) dead\b",
    r"\b(been cutting|is cutting|keeps cutting|started cutting) (his|her|their|my) (arms?|wrists?|legs?|thighs?|skin)\b",
    r"\b(lethal|fatal|deadly) (over)?(dose|amount|quantity)\b",
    r"\bon purpose\b.*\bwould (it|that|they|he|she|i) (just )?(drift off|die|go peacefully|be painless|feel anything)\b",
    "^"
    + _AWAY
    + r".*\b(do not|dont) intend (to be (here|around|alive)|to see (it|christmas|the new year|another))\b",
    "^"
    + _AWAY
    + r".*\b(said|say|saying) goodbye to (the |my )?(family|kids|children|everyone|everybody)\b( in my own way)?",
    r"\b(so (that )?(i|she|he) (do not|dont|does not|doesnt|will not|wont) have to|save me) do(ing)? it (my|her|him)self\b",
    r"\b(googling|googled|researching|researched|looking up|looked up|reading up on|read up on|searching|searched|"
    r"search history)\b.*\b(lethal|fatal|deadly)\b",
    r"\bhow (much|many)\b( \w+){0,8} (is|are|would be|would|will be) (lethal|fatal|deadly)\b",
    r"\bwhich (bridge|building|cliff|car park|tower|block)\b( \w+){0,4} (highest|tallest)\b",
    r"\bon purpose\b.*\bwould (it|that|they) (do it|work|kill)\b",
    r"\bexit bag\b",
    r"\bfor when (i|she|he) (decide|decides|have had enough|has had enough|ve had enough|am ready|is ready)\b",
    r"\b(stockpiling|stockpiled|saved up|put by|put aside|set aside)\b.*\b(know|decided) what (i am|i will|i shall|she is|he is) "
    r"(going to )?(do|doing) with (it|them)\b",
    r"\b(worked out|decided|planned|know|knows) (how and when|when and how)\b",
    r"\b(go|die|leave|end it|bow out) on (my|her|his) own terms\b",
    r"\b(stopped|stopping|quit|quitting) (all|everything|all (of )?(my|her|his) \w+)\b.*\b(on purpose|deliberately)\b"
    r"(?!.*\bbefore (the|my|her|his) (scan|dexa|test|blood))",
    r"\b(decided|deciding|made up my mind) to (die|end (it|it all|things|my life|everything)|kill my ?self)\b",
    r"^"
    + _AWAY
    + r".*\b(will not|wont|would not) (be )?need(ing)?\b.*\bwhere (i am|im|she is|he is) going\b",
    r"\b(tablets|pills|meds|painkillers) (put by|put aside|set aside|saved up|stashed away)\b",
    r"\blocked (herself|himself|myself) in\b.*\b(pills|tablets|meds|knife|razor|rope|blade)\b",
    r"\b(said goodbye|saying goodbye|hugged|hugging|kissed)\b.*\blike (it|this) (was|is|were) the last time\b",
    r"\b(thank you|thanks) for everything\b.*\b(i am done|im done|(will not|wont) be coming back|goodbye|this is it)\b",
    # val6 round: methods and plans said outright, and the quiet signs round them.
    r"\b(engine|motor) (running|on)\b.*\b(garage|hose|pipe)\b|\b(garage|hose|pipe)\b.*\b(engine|motor) (running|on)\b",
    r"\b(i|i have|i had) (picked|chosen|chose|set|decided on|fixed) (a|the|my) (date|day)\b"
    r"(?! (for|to|of|with|in|on|that|when|at|and time for)\b)",
    r"\b(would|does|will|do|can|could) (falling|jumping|a fall|a jump) (from|off) (\w+ ){0,5}(always )?"
    r"(kill|be fatal|be enough)\b|\b(how high|how many floors|what height)\b.*\b(kill|die|fatal|survive)\b",
    r"\b(whole|entire|all (of )?(the|my)) (box|packet|bottle|pack|tablets|pills|lot)\b.*"
    r"\b(stops? (your|my|the|her|his) heart|(would|will|does) it hurt|painless|be quick|drift off|kill (you|me))\b",
    r"\b(stash|stockpile|stockpiled|hoard|hoarded|saved up|been saving)\b.*\b(dangerous|lethal|kill|fatal|overdose)\b"
    r"|\b(dangerous|lethal|fatal)\b.*\b(stash|stockpile|stockpiled|hoard|hoarded|saved up|been saving)\b",
    r"\bhow long (before|until|till) (someone|anyone|somebody|they|people) (would |will )?(\w+ )?"
    r"(find|found|notice|noticed|miss|missed) me\b",
    r"\b(stopped|stop|stopping|quit) (eating|drinking)( and (eating|drinking))?\b.*"
    r"\b(on purpose|deliberately|fade|to die|be gone|waste away)\b"
    r"|\b(on purpose|deliberately)\b.*\b(stopped|stopping) (eating|drinking)\b",
    r"\b(want|wanna|going|hope|hoping|plan|planning) to be gone (before|by)\b",
    r"\b(help|helping|speed|speeding|hurry|hurrying) it along\b",
    r"\bno reason (left|to stay|to be here)\b",
    r"\bgoodbye\b.*\b(will not|wont|not|is not|isnt|does not|doesnt|cannot|cant) "
    r"(answer|answering|pick up|picking up|respond|responding|reply|replying)\b",
    r"\b(took|taken|takes|had|has|with) a (knife|blade|razor)\b.*\b(bathroom|bedroom|sat|sitting|locked)\b",
    r"\b(search|searched|searching|search history|looked up|looking up|googled|googling|reading|read)\b"
    r"( \w+){0,3} (about |up on |how to )?(overdos|lethal)",
    r"\bfuture\b.*\b(do not|dont|never) (plan|intend|expect) (on |to )?(have|having) one\b"
    r"|\b(do not|dont|never) (plan|intend|expect) (on |to )?(have|having) a future\b"
    r"|\b(do not|dont|never) (plan|intend) (on |to )?(grow|growing|get|getting) old\b(?! (gracefully|quietly|without))",
    r"^(?=.*\b(weirdly|oddly|strangely|unusually|eerily|suspiciously) (calm|peaceful|at peace|serene|cheerful)\b)"
    r"(?=.*(\b(gave|giving|given|give) (\w+ ){0,3}away\b|\bletters\b|\bgoodbye\b|\bsorted (everything|it all) out\b|"
    r"\brehomed\b|\bloose ends\b|\bstopped (all )?(her|his|my|their) (\w+ )?(meds|medication|medicines|tablets|pills|"
    r"letrozole|anastrozole|exemestane)\b))",
    # val7 round: passive wishes, oblique self-harm, method questions, means put by.
    r"\b(pray|praying|hope|hoping|wish|wishing) (that )?(i )?(do not|dont|would not|will not|not to|never) wake up\b",
    r"\bif i (did not|didnt|do not|dont|never) wake up\b.*\b(ok|okay|fine|happy|glad|a relief|would not mind|not mind)\b",
    r"\b(decided|know|knowing) (that )?(this|it) (is|will be) my last (winter|christmas|summer|birthday|year|spring|autumn)\b",
    r"\bmake it look like (a fall|an accident)\b",
    r"\b(balcony|bridge|roof|floor|cliff|building|window|stairs)\b.*\bwould (they|i|you|someone|a person|he|she|it) "
    r"(survive|die|be fatal|kill)\b",
    r"\b(overdose|od)\b.*\b(painful|painless|peaceful)\b|\bpainless (way|overdose)\b|\bpainless way to (go|die|do it|end it)\b",
    r"\b(pills|tablets|meds|painkillers) (all )?(lined up|laid out|counted out)\b"
    r"(?! (for the week|in the organiser|in my organiser|in the pill box|in a pill box|by day))",
    r"\b(lighter|cigarette|iron) (into|on|against) my (leg|legs|arm|arms|skin|wrist|thigh|thighs|hand)\b",
    r"\bpunch(ing|ed)? (the |a )?walls?\b.*\b(bleed|bleeding|blood|until|til|till)\b",
    r"\b(thing|things) with (the |a )?(razor|blade|knife)\b",
    r"\blong sleeves\b.*\b(cuts|scars|arms)\b|\b(cuts|scars|arms)\b.*\blong sleeves\b",
    r"\b(not|no|without) (a |the )?(helpline|hotline|crisis line)( number)?\b(?! (is|was) (busy|closed))"
    r"|^(?!.*\bi am (safe|fine|ok|okay)\b).*\b(do not|dont) (send|give) me (the |a |any )?(numbers|number|helpline|hotline)\b",
    r"\b(looking|staring|look|stare|looked|stared) at the (beam|beams|rafters|banister|loft hatch)\b",
    r"\b(most dangerous|most lethal|deadliest)\b.*\b(tablets|pills|mixed|together|combination)\b"
    r"|\b(tablets|pills|meds)\b.*\b(most dangerous|most lethal|deadliest)\b",
    r"\b(nobody|no one|noone) would (even )?miss me\b",
    r"\b(i have|i) decided on the \d+(st|nd|rd|th)?\b(?!.*\b(for|scan|dexa|appointment|infusion|party|wedding|holiday|trip|move)\b)",
    r"\b(keeping|kept|putting|put|holding|held) (back|aside|by) (some of |a few of |a couple of |a few |a couple |some )?(the |my |her |his )?(\w+ ){0,2}"
    r"(pills|tablets|meds|medicine|tramadol|codeine|morphine|oramorph|sleeping pills|painkillers|zopiclone)\b",
    r"\b(will not|wont) need to know (for )?(long|much longer)\b",
    r"\b(prescription|pills|tablets|pharmacy)\b.*\b(collection|stash) (going|growing)\b",
    r"\bexhaust (thing|fumes|hose|pipe)\b",
    r"\b(codeine|tramadol|morphine|oramorph|sleeping pills|zopiclone|diazepam|amitriptyline|painkillers)\b.*"
    r"\b(hidden|hid|hiding|shoebox|under the bed|stash)\b",
    r"\b(stairs|balcony|edge|ledge|bridge)\b.*\b(would do the rest|and it would be over|that would be it)\b",
    r"\b(note|letter|envelope|card)\b.*\bnot to be sad\b",
    r"\b(low|down|depressed)\b.*\bgave (me|us|away) (his|her|all) (\w+ )?(medals|ring|watch|jewellery|jewelry|things)\b",
    r"\bno point dragging (it|things|this) out\b",
    r"\b(a plan|the plan)\b.*\bgot as far as\b",
    r"\b(do not|dont|never) (plan|intend|expect) (on |to )?(need|needing|be around|being around|use|using) "
    r"(them |it |this |my bones )?(much |for )?(longer|long)\b",
    r"\bnot asking (about|for) (the )?safe (levels?|doses?|amounts?)\b",
    r"\b(i am|im) not fine\b.*\bcounting\b|\bcounting (the|my) (oramorph|morphine|codeine|tramadol|sleeping pills|sleepers)\b",
    r"\b(paid|sorted|arranged)\b.*\b(ahead|in advance)\b.*\bwhen i am gone\b",
    r"^(?=.*\b(paid off|cleared) (the |my )?(credit card|debts?|loan|car|mortgage)\b)"
    r"(?=.*\b(cancelled|canceled|rehomed|took the (cat|dog)|gave away)\b)(?=.*\b(stop|cancel) (the |my |all )?(reminders|messages)\b)",
    # val8 round
    r"\b(would|could|will) (it |that |this )?(look|looks|seem) (completely |totally |entirely |perfectly )?"
    r"(natural|like an accident|accidental)\b.*\b(fall|stairs|tablets|pills|insurance)\b"
    r"|\b(insurance|policy) (still )?pays? out if (it is|its|it was|it s) (ruled|called|deemed|seen as|put down as) an accident\b",
    r"\b(took|taken|had|swallowed)\b( \w+){0,8} (pills|tablets|sleepers|painkillers|meds)\b( \w+){0,4} (?<!not )(?<!was not )on purpose\b"
    r"|\b(woke|wake) up\b( \w+){0,3} (disappointed|gutted|sorry i did)\b",
    r"\b(i have|i|ive|she has|he has) decided (i have|i ve|ive|she has|he has|shes|hes) had enough\b",
    r"\b(stop|stops|stopped|stopping) (eating and drinking|drinking and eating)\b(?!.*\b(before|after) (the|my|a) "
    r"(scan|dexa|operation|surgery|procedure|test|blood test)\b)",
    r"\bnot (going|gonna) (to )?wait for (nature|god|the cancer|it to happen)\b",
    r"\bsquirrel+(ing|ed|s)? (away )?(\w+ ){0,3}(pills|tablets|paracetamol|painkillers|meds|sleeping pills|codeine|tramadol)\b",
    r"\b(started|starting|been|am|i am) (working|figuring|sorting) out (how|the how)\b(?! to (use|get|take|book|pay|claim|manage))",
    r"\b(kindest|best) thing (i could do|for (them|everyone|my family)) (\w+ ){0,4}(is |would be )?(not to be here|to not be here|to go|to disappear)\b",
    r"\b(will not|wont) (need|be needing) (it|them|any of (it|them)|these|those)( anymore)? after (the )?\d+(st|nd|rd|th)?\b",
    r"\b(took|take|taking|swallowed|swallow)\b.*\b(all|whole|every)\b.*\bwould (it|that) be (quick|quicker|painless|peaceful|fast)\b"
    r"|\bmain character is (basically |really |just )?me\b",
    r"\b(buy|order|get hold of|get)\b( \w+){0,4} (sleeping (pills|tablets)|sleepers|paracetamol|painkillers|codeine|tramadol|opioids|"
    r"barbiturates)\b( \w+){0,3} (online )?without (a )?prescription\b"
    r"|\bmore than a (normal|usual|regular) (packet|box|pack|prescription)\b",
    # val9 round
    r"\b(bought|buying|buy|got|getting)\b( \w+){0,3} (paracetamol|painkillers|tablets|pills|sleeping pills|codeine|aspirin)\b"
    r"( \w+){0,3} (from )?(different|several|a few|few|two|three|four|five|lots of) (shops|chemists|pharmacies|supermarkets|places)\b",
    r"\b(would|will|could) it (go|be|happen|be over) (faster|quicker|sooner)\b"
    r"|\bhow long (till|until|before|does it take (till|until|before)) (it is|its|i am|im) (over|gone|dead|all over)\b",
    r"\b(not|no) (looking|wanting|want) to be talked out of it\b|\bdo not (try to )?talk me out of it\b",
    r"\buntil (we|i|you|they) decide otherwise\b",
    r"\b(looking up|looked up|look up|checking|checked|googling|googled|searching|searched) how (high|tall|deep|far down)\b",
    r"\b(a )?future (i am|im) not (planning|going|expecting|intending|hoping) (to be|on being) (in|around|part of|here for)\b",
    r"\bbetter off with (the|my) (insurance|life insurance|payout|pension)\b|\b(policy|insurance) (only )?pays out after\b",
    r"\bhow many (\w+ ){0,3}would (actually |really )?(do something|do it|do the job|be enough|finish (me|it))\b",
    r"\bwould (a load|a lot|loads|a bunch|all|the whole (box|packet|pack|bottle)) of (\w+ ){0,2}be enough\b",
    r"\b(saved|saving|stockpiled|stored|kept|put by) (up )?(about |nearly |over )?(a|one|two|three|four|six|\d+|several|a few) "
    r"(months?|weeks?) (of|worth of)\b(?!.*\b(holiday|travel|trip|cruise|abroad|shortage|running out)\b)"
    r"|\bnot for the pain\b",
    r"\bso they (do not|dont|will not|wont) (ring|call|phone|write|text|chase)( \w+){0,3} after\b",
    r"\b(hose|hosepipe)\b( \w+){0,6} (tape|taped|exhaust)\b|\b(taped|exhaust)\b( \w+){0,6} (hose|hosepipe)\b",
    r"\b(a|one|my) last look at the (sea|view|world|hills|sky|stars)\b",
    r"\b(one last|my last|final) (scan|dexa)\b.*\b(do not|dont) (really )?need the results\b",
    r"\bhelp (her|him|me|them) (to )?(finish it|finish it all|end it|go)\b(?! (to|for|with|back|home|out|up|down|shopping))",
    r"\bhow long does it take from (the|your|my|a) wrists?\b",
    r"\b(written|wrote|writing) (\w+ )?(letters?|notes?) (to|for) (each of us|each of them|all of us|everyone|the kids|the family)\b"
    r".*\b(stopped|stopping|stops|refusing|refuses) (her|his|my|taking|all)\b",
    # val10 round
    r"\b(would not|wouldnt|would nt) (really )?mind (if i )?(not|never) (waking|wake) up\b",
    r"\bhow many\b( \w+){0,5} (would it take|does it take|would you need|do you need|would i need) to (actually |really )?"
    r"(stop|kill|end|finish)\b",
    r"\bhow much (\w+ ){0,3}would (it take to )?kill (a person|someone|somebody|me|you|a human)\b|\boverdose on\b( \w+){0,4} on purpose\b",
    r"\bwould (anyone|anybody) (even |actually |really )?(notice|care|miss me)\b",
    r"\b(picked|chosen|chose|set|settled on) a date\b(?! (for|to|with|that)\b)",
    r"\b(fall|jump|overdose|crash)\b( \w+){0,3} would solve (a lot of|all|everything|my|most)\b",
    r"\bhow (long|quickly|fast) (it takes|does it take|would it take) to (drown|bleed out|freeze to death|suffocate)\b",
    r"\bburden\b.*\b(gun|guns|rifle|shotgun|gun cabinet)\b|\b(gun|guns|rifle|shotgun|gun cabinet)\b.*\bburden\b",
    r"\b(count|check|notice|know about) (your|my|the) (tablets|pills)\b( \w+){0,3} after (you|i|someone) (die|dies|am gone|are gone)\b",
    r"\bneed to (know|no) (the (number|numbr)|how many|exactly how many|exactly how much)\b",
    r"\b(kept|keeping|saved|saving|stored|storing|hoarded|hoarding)\b.*\bin case i (decide|need to|want to|change my mind)\b",
    # val11 round
    r"\b(collected|collecting|gathered|gathering|hidden|hiding|stored|storing)\b( \w+){0,3} (sleeping tablets|sleeping pills|tablets|pills)\b"
    r"( \w+){0,6} (under|in) (the|her|his|my) (pillow|mattress|bed)\b",
    r"\b(put|counted|lined|tipped|emptied) (out )?(all )?(the |my )?(\w+ )?(tablets|pills)\b( \w+){0,5} (into|in|on) (one|a) (jar|pot|pile|bowl|cup|row)\b"
    r".*\b(looking at them|not done anything yet|have not done anything|havent done anything)\b",
    r"\b(will|going to|want to|just|i will) sleep and (not|never) wake\b",
    r"\baffairs in order\b.*\b(gave|given|rehomed|giving)\b|\bif (you|i|someone) (take|took|takes) (a lot|loads|lots|all|a bunch) of them\b",
    r"\b(hold|holding|held)\b( \w+){0,2} (the|a|my|his|her) (pistol|gun|rifle|shotgun|revolver)\b( \w+){0,4} (to see|see how|how it feels|against|to my head)\b",
    r"\b(would|will|d) be better without me\b",
    r"\b(looked up|looking up|checked|googled|searched) the (height|drop) of\b",
    r"\b(took|taken|swallowed)\b.*\b(pills|tablets)\b.*\b(do not|dont) tell (her|him|anyone|mum|mom|dad|my)\b",
    r"\bone last time\b.*\b(will not|wont|would not|is not|isnt) (be )?coming back\b|\breading about (ending it|suicide|killing (her|him|my)self)\b",
    r"\bso (nobody|no one|noone) (has|have|will have|would have) to (worry|deal with|sort|do|clear) (\w+ )?after\b",
    r"\bwhoever finds me\b|\b(pills|tablets) are (ready|lined up|counted out|all counted)\b",
    r"^(?=.*\b(passwords|deeds|a note for|notes? for|letters? (for|to) (my|the|each)|affairs in order)\b)"
    r"(?=.*\b(will not|wont|do not|dont) need (the |my |any |these )?(\w+ )?(reminders?|scans?|dexa|appointments?)\b)",
    # val12 round
    r"\bhow many (\w+ ){0,3}(would|does|will) it take\b(?! to (work|kick in|get|see|show|reach|build|make|notice|help|start|clear|leave|wear))"
    r"(?! (for|before) (it|them|the|my|you|me|a|an)\b)",
    r"\ball\b( \w+){0,4} at once\b.*\b(kill me|kill you|kill a person|be fatal|be enough to die|would i die|finish me)\b"
    r"|\bbefore (its|it is|it s|it would be|it becomes) (fatal|lethal|deadly)\b|\b(lethal|fatal) (dose|amount)\b",
    r"\b(do not|dont) want (\w+ ){0,2}(more|another) (years|decade|decades)\b",
    r"\b(would|d) rather be dead\b|\b(a way out|an exit plan|an exit|a plan) (all )?(sorted|planned|ready|arranged|worked out|saved|hidden|kept|stashed)\b"
    r"|\ba way out\b( \w+){0,3} (in|under) (her|his|my|the) (handbag|bag|drawer|pocket|bedside|cupboard|wardrobe)\b",
    r"\b(found|left|finding) a note\b.*\b(sorry|love you|goodbye|good bye|forgive)\b",
    r"\b(we|you|they|everyone|everybody|you all|they all) (would|will|d) (all )?be better off\b"
    r"(?! (with|if|going|taking|getting|asking|on|using|doing|switching|seeing|having|to|than|in|at|for|waiting|calling|ringing|talking)\b)",
    r"\b(better to|just|might as well|should just|want to|going to|ready to) (just )?end it\b(?! (with|for|there|here|early|now with)\b)",
    r"\b(hoping|hope|wish|praying|pray) (that )?(the )?(cancer|it) (comes|will come|would come|came) back\b",
    "^"
    + _AWAY
    + r".*\b(when|once|after) (i am|im|i m) (not here|no longer here|not around|no longer around) (anymore|any more)?\b",
    r"\bnoose\b|\bhow to tie (a |the )?(proper |strong |good )?knot\b(?!.*\b(boat|boating|sailing|scarf|shoe|shoes|climbing|fishing|tie|parcel|rope course)\b)"
    r"|\bhow to tie (a |the )?(proper |strong |good )?knot\b.*\bnot for (boating|sailing|the boat|climbing|fishing)\b",
    r"\b(burned|burnt|cut|scratched|scalded|hurt|hit|punched|bit|stabbed|bruised) (my ?self|my (\w+ )?(arm|arms|leg|legs|wrist|wrists|hand|hands|skin|thigh|thighs|stomach|face|head))\b"
    r"( \w+){0,4} on purpose\b",
    r"\b(want|wanted|wanting|wish i could|like to|just want to) (to )?(just )?disappear\b"
    r"(?! (for|under|into|on|to|off|from|in|with|until|till|when) )",
    r"\b(did not|didnt|never|not) (get|wake) (back )?up\b.*\b(relieved|a relief|would not mind|wouldnt mind|be ok with that|be fine with that|be better)\b",
    r"(?<!not )(?<!never )\b(let ?ting go|let go|fall|falling|jump|jumping|throw(ing)? my ?self|step(ping)? (off|out))\b( \w+){0,3} on purpose\b",
    r"\b(looked up|looking up|googled|searched|read up on|reading about|read about)\b( \w+){0,4} what happens if (you|i|someone|a person) "
    r"(take|took|swallow|swallowed)\b( \w+){0,3} (all|the whole|every|a whole)\b",
    # val13 round
    r"\b(is|are|would be|will be|be|d be) better (off )?(if|when) (i am|im|i m|i was|i were) (gone|dead|not here|not around)\b",
    r"^(?=.*\b(gave|given|giving|sold|selling) (away )?(his|her|my) \w+)(?=.*\b(made|making|wrote|writing|did|done) (a|his|her|my) will\b)"
    r"(?=.*\b(down|low|depressed|quiet|withdrawn|says (he|she) is fine|keeps saying)\b)",
    r"\b(not|no|am not|m not) (plan|planning|planned|intend\w*) (to be|on being) (here|around|alive)\b",
    r"\b(have|got|bought|keep|kept) (a |the |some )?rope\b.*\b(keep thinking|thinking about it|cannot stop thinking|can not stop thinking|think about it)\b",
    r"\bbetter (life|lives|off) without (me|a sick \w+|her sick \w+|his sick \w+|their sick \w+)\b",
    r"\b(he|she|they|husband|wife|partner|family|kids|children|daughter|son|girl|boy)\b( \w+){0,3} (would|will|d) (honestly |really |probably |all )?"
    r"(manage|cope|do|be|live) (\w+ )?better without (me|all my|a sick)\b",
    r"\b(cancelled|canceled|cancelling|canceling) (my|all my) (\w+ ){0,2}(appointments?|appt|appts|treatment|chemo|scans?)\b.*\b(no point|i have decided|what is the point|whats the point)\b",
    r"\boverdose on\b.*\bhow many\b|\bhow many (\w+ ){0,3}(would|do|does) (you|i|one|a person|someone) need\b(?! to (take|get|have|see|buy|order|book))",
    r"\b(tallest|highest) (car park|multi ?storey|building|bridge|tower|cliff)\b(?!.*\b(world|europe|view|visit|trip|holiday|tour)\b)",
    r"\bhow long (does it|would it|will it) (usually |normally )?take (for )?(someone|anyone|people|somebody) to (find|notice|discover) (you|me|a body|the body)\b",
    r"\bgoodbye (texts?|messages?|emails?|videos?|voice notes?)\b",
]

# Phrases of exhaustion that are a crisis alone, but that a person in physical pain also uses ("it hurts so
# much i cannot take it anymore"): when an urgent rule also matches, the urgent reply is the right one.
_WEAK_CRISIS = re.compile(
    r"\b(cannot|can not|cant|could not) (go on|carry on|keep going|do this any ?more|take (it|this) any ?more|"
    r"cope any ?more|live like this)\b|\b(tired|sick) of (fighting|trying|everything|it all)\b"
)

_URGENT = [
    r"\b(i|i have|ive|i just|she|he|mother|father|partner|just) (fell|fallen|had a (bad |nasty )?fall)\b",
    r"\b(fell|fallen|a fall|slipped|tripped)\b.*\b(cannot|cant|can not|unable to|not able to|could not) "
    r"(get up|stand|walk|move|get off)",
    r"\b(cannot|cant|can not|unable to|not able to|could not) (get up|stand up|stand|walk|move my (leg|legs|arm|hip)"
    r"|bear (any )?weight|put (any )?weight)",
    r"\b(broke|broken|break|fracture|cracked|snapped) (my|her|his)\b",
    r"\b(think|thought|worried|sure|feels like|feel like|looks like|might have|may have|probably) "
    r"(i|it|it is|its|ive|i have|she|he|that|something)? ?(has |have |is |got )?(a |an )?"
    r"(broke|broken|fracture|cracked|snapped)",
    r"\b(possible|possibly|suspected|maybe a|might be a) (fracture|broken|break)",
    r"\bwhat (do|should) i do (right )?now\b",
    r"\b(fell|fallen|fall|tripped|slipped)\b.*\b(hurts|hurting|pain|agony|swollen|swelling|bruised|wrong shape|"
    r"deformed|bleeding|cannot move|cannot stand|cannot walk)\b",
    r"\b(hurts|pain|agony|swollen)\b.*\b(after|from) (a|the|my) (fall|trip|slip)\b",
    r"\b(wrong shape|out of shape|looks deformed|bent the wrong way|(weird|odd|strange|funny|wrong) angle)\b",
    r"\b(fell|fallen|tripped|slipped)\b.*\b(help|ambulance)\b",
    r"\b(rib|ribs|hip|back|spine|wrist|bone|ankle|leg|knee) (popped|cracked|snapped|gave way|went)\b",
    r"\b(in|now|such) agony\b",
    r"\bcannot get (up|off the floor|off the ground|out of bed)\b",
    r"\b(cannot|unable to|can not) move\b",
    r"\b(gave out|gave way|went) (with|and) (awful|terrible|severe|sharp|sudden|excruciating) pain\b",
    r"\b(fell|fallen) (on|onto|to|down|off|over) ",
    r"\b(legs?|knees?) (will not|wont|would not|cannot) (hold|support|carry) me\b",
    r"\b(broken|fractured|fracture|cracked|snapped) (hip|wrist|spine|back|leg|arm|rib|ribs|ankle|shoulder|"
    r"vertebra|neck|pelvis|bone|foot|elbow|collarbone|femur)\b",
    r"\bsomething (cracked|snapped|popped|broke|went)\b",
    r"\b(cracked|snapped|popped) in my\b",
    r"\b(heard|felt) (a |something )?(crack|snap|pop)\b",
    r"\b(my|her|his) (hip|wrist|spine|back|leg|arm|rib|ribs|ankle|shoulder|vertebra|neck|pelvis|bone) "
    r"(is|are|feels|looks|might be|may be|could be) (broken|fracture|cracked|snapped|deformed)",
    r"\b(sudden|severe|excruciating|unbearable|agonising|agonizing|extreme|terrible|awful|intense|crippling|worst)\b"
    r"( sudden| severe| sharp| stabbing| shooting| bad| terrible| awful)* (back|spine|spinal|hip|rib|chest|groin|neck|"
    r"leg) (pain|ache|agony)",
    r"\b(sudden|severe|excruciating|unbearable|agonising|agonizing|extreme|terrible|awful|intense|crippling|worst)\b"
    r"( sudden| severe| sharp| stabbing| shooting| bad| terrible| awful)* (pain|ache|agony) in (my|her|his) "
    r"(lower |upper )?(back|spine|hip|ribs?|chest|groin|neck|leg|pelvis)",
    r"\b(back|spine|hip|chest) (pain|agony) (is )?(so )?(severe|unbearable|excruciating|out of nowhere|suddenly)",
    r"\bchest pain",
    r"\b(cannot|cant|can not|struggling to|hard to) breathe\b",
    r"\b(ambulance|999|911|112|a and e|er now|emergency room)\b",
    r"\bleg (is )?(twisted|bent|turned) (the wrong way|out|outwards)",
    r"\bnumb(ness)? (in|down) (my|both) (legs|leg)\b",
    r"\blost (control of|feeling in) my (bladder|bowels|legs)\b",
    r"\b(bone|bones) (sticking|poking) out\b",
]

_URGENT_EXTRA = [
    r"\b(cannot|can not|cant|could not|unable to) feel (my|her|his) (legs?|feet|foot|toes)\b",
    r"\b(legs?|feet|foot) (are |is |went |have gone |has gone |had gone |gone |going )?(numb|dead|weak|tingling|giving way|giving out)\b",
    r"\b(numb|numbness|tingling|weakness|weak) (in|down|of) (my|her|his|both|the) (legs?|feet|groin|bottom)\b",
    r"\b(wet|soiled|lost control of) (my|her|his)?self\b.*\bback\b|\bback\b.*\b(wet|soiled) (my|her|his)self\b",
    r"\b(still|really|keeps?|getting) (hurts?|hurting|painful|sore|worse)\b.*\b(fall|fell)\b|\b(fall|fell)\b.*\b(getting worse|still hurts|worse and worse)\b",
    r"\b(hip|back|spine|wrist|leg|rib|ribs|ankle|arm|shoulder|pelvis)\b.*\b(swollen|bruised|black and blue|cannot move|will not move|wont move)\b",
    r"\b(on the floor|on the ground)\b.*\b(cannot|can not|unable|wont|will not|help)\b",
    r"\b(sudden|suddenly)\b.*\b(back|spine|hip)\b.*\b(pain|agony|hurts|cannot)\b",
    r"\b(back|spine)\b.*\b(suddenly|all of a sudden|out of nowhere)\b.*\b(pain|agony|hurts|cannot|excruciating|unbearable)\b",
    r"\b(pain|agony)\b.*\b(out of nowhere|came on suddenly|all of a sudden|worst (i have|ive) ever)\b",
    r"\b(worst|most severe) (back |hip )?pain (i have|ive) ever\b",
    r"\bfelt (something|it) (give|go|crack|snap|pop)\b",
    r"\b(numb|numbness|no feeling|tingling)\b.*\b(between my legs|groin|bottom|saddle|private parts|down below)\b",
    r"\b(cannot|cant|unable to) (straighten up|turn over|roll over|take a deep breath|breathe in)\b",
    r"\b(looks|look|is|is sticking|sticking) (wrong|out|up)\b.*\b(fell|fall|lump|bone)\b|\b(fell|fall)\b.*\b(looks wrong|lump sticking)\b",
    r"\b(cannot|cant|unable to|not able to) (put|bear) (any )?weight\b",
    r"\b(cannot|cant|can not) (control|hold) (my|her|his) (bladder|bowels|pee|wee)\b",
    r"\b(fell|fall|slipped|tripped)\b.*\b(looks|look|looking) (wrong|odd|strange|deformed|out of place|twisted)\b",
    r"\b(pale and clammy|gone (very )?(pale|grey|gray) and (clammy|sweaty|cold))\b",
    r"\b(cannot|cant|can not|unable to) lift (my|her|his) (right |left )?(foot|leg|feet|legs)\b",
    r"\bdragging (my|her|his|the) (right |left )?(leg|foot)\b",
    r"\b(cannot|cant|can not|unable to) (pee|wee|urinate|pass urine|pass water)\b",
    r"\blegs? (keep |keeps |kept )?(giving way|gave way|give way|buckling|buckled)\b",
    r"\bbone (is )?(pushing|poking|sticking|coming) (against|through|out of|out through) (the |her |his |my )?skin\b",
    r"\b(wrist|arm|leg|ankle|hip|collarbone|shin) (just )?(snapped|cracked)\b(?! (years|months) ago)",
    # val9 round
    r"\b(hit|banged|bumped|cracked) (her|his|my|their) head\b.*\b(slurred|slurring|confused|drowsy|vomiting|being sick|"
    r"threw up|knocked out|passed out|not making sense|cannot remember|blacked out|unconscious)\b",
    r"\b(threw up|throwing up|vomited|vomiting|sick) (up )?(something dark|blood|black|coffee grounds)\b"
    r"|\b(black|tarry) (stool|stools|poo|poop)\b",
    r"\bbleeding (will not|wont|does not|doesnt|would not|is not|isnt) (stop|stopping)\b",
    r"\bcracked something\b(?! (years|months) ago)",
    r"\b(stuck|been|lying|lain) on the (\w+ )?floor (since|for|all)\b",
    r"\b(wrist|arm|ankle|leg|shoulder|finger|hip|elbow) (s |is |looks )?(a )?(funny|weird|odd|strange|wrong|bad) (shape|angle)\b",
    r"\b(leg|foot) (is |looks )?(shorter|turned out|twisted out|pointing (out|outwards|the wrong way))\b",
    # val10 round
    r"\b(bleeding|bled|nosebleed|nose bleed|bleed)\b( \w+){0,4} (for|over) (over |more than |nearly |almost |about )?"
    r"(\d+|an|half an|two|three|forty|thirty|twenty) (minutes|mins|hours?)\b",
    r"\bsoaked (through )?(\w+ ){0,3}(tea towels|towels|tissues|dressings?|bandages?|flannels?)\b"
    r"|\bbleeding through (the|her|his|my) (dressing|bandage|plaster)\b",
    r"\b(like|looked like|looks like) coffee grounds\b|\b(coughing|coughed|cough) up blood\b",
    r"\b(forgot|forgetting)( \w+){0,2} (and )?(took|taken|had) another\b",
    # val11 round
    r"\b(sticking|poking|pushing) (up|out) under the skin\b",
    r"\b(step|kink|bend|dent) in (it|my shin|his shin|her shin|the bone|the shin)\b"
    r"|\b(foot|feet|hand|leg|toes|fingers) (has |have |is |are |s )?(gone |going |turned )?(cold and (pale|white|blue)|(pale|white|blue) and cold)\b",
    r"\b(wrist|ankle|arm|hip|knee|foot|hand|leg|elbow|shoulder) (is |s |has gone |went )?(huge|massive|twice the size|enormous)\b"
    r"|\b(huge|swollen|massive) and (purple|black|blue)\b",
    r"^(?!.*\b(anxiety|anxious|panic|panicky|nerves|nervous|stress|stressed)\b).*"
    r"(\bchest (pains?|tightness)\b|\bchest (is |feels |feeling |going |gone )?tight\b)",
    r"\b(pooped|pooed|wet|soiled|peed) (my ?self|herself|himself)\b( \w+){0,3} without (feeling|noticing|knowing|realising|realizing)\b",
    r"\b(shaped like|looks like|gone like|bent like) a (fork|dinner fork|banana)\b",
    # val12 round
    r"^(?=.*\b(bang|banged|banging|hit|hitting|bumped|bumping|knock|knocked) (her|his|my|their) head\b)(?=.*\b(muddled|confused|"
    r"repeating (her|him|my|them)self|asking the same (question|thing)|headache|drowsy|sleepy|slurr\w*|vomit\w*|being sick)\b)",
    r"\b(foot|feet|leg|legs) (feels?|feeling|is|are|went|gone|has gone|have gone) (numb|floppy|weak|dead|like jelly)\b",
    r"^(?=.*\b(back|spine|lifting|deadlift\w*)\b)(?=.*\b(trouble|difficulty|cannot|cant|struggling|problems?|hard) (to )?(pee|peeing|wee|weeing|urinat\w*|passing (urine|water))\b)",
    r"\bfelt something\b( \w+){0,4} (give way|give|go|crack|snap|pop)\b|\blike a snap\b",
    r"\bpain (in|across|on) (my|her|his) chest\b|\b(cannot|cant|can not|could not) catch (my|her|his) breath\b.*\bpain\b"
    r"|\bpain\b.*\b(cannot|cant|can not|could not) catch (my|her|his) breath\b",
    # val13 round
    r"\b(soiling|wetting|peeing|pooing) (my|her|him|them)self\b.*\bback\b|\bback\b.*\b(soiling|wetting) (my|her|him|them)self\b",
    r"\b(hard to wake|difficult to wake|(cannot|cant|can not|could not) wake (him|her|them) up)\b",
    r"\b(lump|bump|bone) (is )?sticking (up|out)\b",
    r"^(?!.*\b(anxiety|anxious|panic|panicky|nerves|nervous|stress|stressed)\b).*\b(pressure|tightness|heaviness|squeezing) (in|on|across) (my|her|his|the) chest\b",
]

# Accidental overdoses and children swallowing tablets go to the emergency and poison-centre route. Said
# with intent ("i want to overdose"), the crisis rules above take them first.
_OVERDOSE = [
    r"\boverdos",
    r"\b(took|taken|take|swallowed|had|have taken|have had|given|gave)\b( \w+){0,4} "
    r"(too many|too much|an extra|extra|double|twice|two doses|2 doses|two of|2 of|a second|another) "
    r"((\w+ ){0,3})?(pills?|tablets?|doses?|medicine|meds|capsules?|of (my|her|his|the) \w+)\b",
    r"\b(took|taken|swallowed|had|gave|given)\b( \w+){0,3} (my|her|his|the) (pills?|tablets?|dose|medicine|meds)( \w+){0,3} (twice|two times|2 times|again by mistake|by mistake|again)\b",
    r"\b(took|taken|swallowed|had|gave|given) (\d+|two|three|four|five|six|seven|eight|nine|ten|several|lots of|a handful of|a bunch of|all (of )?(my|her|his|the)) "
    r"(\w+ ){0,2}(pills?|tablets?|capsules?|doses?|medicine|meds)\b",
    r"\b(accidentally|accidently|by accident|by mistake|mistakenly) (took|taken|swallowed|double dosed|doubled|had)\b",
    r"\b(double dosed|doubled up|double dose)\b.*\b(by mistake|accidentally|accidently|today|this morning|last night|what do i do|now)\b",
    r"\b(child|toddler|kid|baby|son|daughter|grandson|granddaughter|grandchild|grandkid|little one|boy|girl|year old|yr old|yo)\b( \w+){0,8} "
    r"(swallowed|ate|eaten|has eaten|took|has taken|got into|chewed|might have (swallowed|eaten|taken))\b",
    r"\b(swallowed|ate|eaten|got into|chewed)\b( \w+){0,4} (pills?|tablets?|medicine|meds|capsules?)\b",
    r"\b(took|taken|swallowed|had)\b( \w+){0,4} (twice|two times|2 times)\b.*\b(today|this morning|by mistake|accidentally|tonight)\b",
    r"\b(a |the )?(whole|entire) (weeks?|month s|months?|box|packet|strip)( s)? (worth )?(of )?(pills|tablets|meds|medicine)?\b.*\b(at once|in one go|by mistake|swallowed|took|taken)\b",
    r"\b(taken|took|swallowed) (every|all the|all of the|all her|all his) (tablet|tablets|pill|pills)\b",
    r"\b(tablet|pill|pills|tablets) in (her|his|their) mouth\b",
    r"\b(took|taken|swallowed) (my|her|his) (pills?|tablets?|medicine|meds) by mistake\b",
    r"\b(forgot|forgotten|did not remember|didnt remember)\b( \w+){0,4} (took|taken|take|had) (it|them|one|another) again\b",
    r"\b(forget|forgets|forgetting|forgot|does not remember|doesnt remember) (she|he|i|they|shes|hes|ive) ?(has |have |had |s )?"
    r"(had|taken|took) (it|them)\b"
    r".*\b(again|today|since|counted|\d+|two|three|four|five)\b",
    r"\b(took|taken|had) (it|them|my \w+|another one|a second one) again\b.*\b(forgot|mistake|accident|dizzy|sick|what do i do)\b",
    r"\b(pill|tablet|dose) out again\b.*\b(took|taken|swallowed)\b",
    r"\b(swallowed|has swallowed|s swallowed|ate|has eaten) (some|one|two|a few|several|a couple) of (my|her|his|the|grandma s|mum s|mom s)\b",
    r"\b(took|taken|swallowed|had) (\d+|two|three|four|five|six) (\w+ ){0,6}instead of (one|1|two|2|my|her|his|the)\b",
    r"\b(took|taken|swallowed|had) (my |her |his )?(husband|wife|partner|mum|mom|dad|son|daughter)( s|s)? (\w+ ){0,2}(and|as well as) "
    r"(mine|my own|hers|his own)\b",
    r"\b(all|whole|entire)\b( \w+){0,3} (days|week|weeks)\b( \w+){0,3} (were |was |are |is )?(empty|gone)\b",
    r"\b(gave|given|give) (them|it|her (pills|tablets|meds)|his (pills|tablets|meds)) to (her|him) again\b",
    r"(?<!nearly )(?<!almost )\b(took|taken|swallowed|had|given|gave) (my |her |his |the )?(husband|wife|partner|mum|mom|dad|son|daughter|sister|"
    r"brother|neighbour|neighbor|friend|hubby|wifey)( s|s)? (\w+ ){0,3}(instead of|by mistake|accidentally|by accident)\b",
    r"\b(took|taken|had|swallowed) (an )?extra (\d+|two|three|four|five|a few|few|some|couple)\b",
    r"\b(took|taken|swallowed|had)\b( \w+){0,8} (my |her |his |the )?(husband|wife|partner|mum|mom|dad|son|daughter|sister|brother|"
    r"neighbour|neighbor|friend|hubby|wifey|father in law|mother in law)( s|s)? (pills|tablets|meds|medicine|ones)( too)? "
    r"(by mistake|accidentally|by accident)\b",
    r"\b(chewed|bitten|bit) (open |into |through )?(a |the |my |her |his )?(blister|strip|packet|pack|bottle|box)\b",
    # val9 round
    r"\b(took|taken|swallowed|had) (his|her|my|the|their) (whole|entire) (bottle|box|pack|packet|strip|tub|supply)\b",
    r"\b(took|taken|swallowed|had) another (\d+|two|three|four|one|couple|few)\b",
    r"\b(took|taken|swallowed|had) (three|four|five|six|seven|eight|nine|ten|[3-9]|\d\d+) (anastrozole|letrozole|exemestane)\b"
    r"|\binjected (double|twice|two doses)\b"
    r"|\b(misread|misunderstood|misreading|misread) the (label|box|instructions|prescription|leaflet|dose)\b",
    r"\b(took|taken|swallowed|had) \d+ (\w+ )?(ibuprofen|naproxen|paracetamol|aspirin|codeine|co codamol|tramadol)\b"
    r".*\b(not meant to|should not|shouldnt|not supposed to) (mix|take)\b",
    # val12 round
    r"\b(took|taken|swallowed|had) (\d+|two|three|four|five|six|seven|eight) (\w+ ){0,4}in (\d+|two|three|an|one) (hours?|minutes|mins)\b"
    r"( \w+){0,2} instead of (\d+|one|two)\b",
    r"\bevery day\b( \w+){0,4} instead of (once|twice|two times|three times) a week\b",
    r"\b(took|taken|had) (my |her |his |the )?\w+( \w+){0,3} (and )?then again\b|\bthat s (3|three|4|four|5|five) (today|in one day|in a day)\b",
    # val13 round
    r"\b(took|taken|swallowed|had) (\d+|two|three|four|five|six|seven|eight|nine|ten) of (my|her|his|the|their) \w+( \w+)? (by mistake|accidentally|by accident)\b",
    r"\b(child|toddler|kid|baby|grandson|granddaughter|grandchild|little one)\b( \w+){0,3} (eat|eats|swallow|swallows|take|takes)\b( \w+){0,3} (pills?|pils|tablets?|meds|medicine)\b",
]

# A pet that ate its owner's tablets needs a vet, not the owner's poison centre: the urgent reply says so.
_PETS = (
    r"(dog|dogs|puppy|pup|cat|cats|kitten|pet|spaniel|labrador|lab|terrier|collie|retriever|poodle|dachshund|beagle|"
    r"pug|jack russell|staffie|greyhound|whippet|rabbit|ferret|budgie|parrot|hamster|guinea pig)"
)
_PET = [
    rf"\b{_PETS}\b( \w+){{0,10}} (ate|eaten|has eaten|chewed|chewing|chewed up|swallowed|has swallowed|got into|"
    r"licked|scoffed|wolfed|munched|gobbled)\b( \w+){0,8} "
    r"(pills?|tablets?|blister|strip|packet|pack|box|bottle|medicine|meds|capsules?|anastrozole|letrozole|exemestane|one|some)\b",
]

# Questions about risk, fear, the future or the past are not emergencies: "will I break a bone?", "I broke
# my wrist years ago, am I at risk?", "my mum broke her hip at 70", "should I stop it, I don't want to break
# my hip". A present-tense cue ("now", "help", "can't get up") keeps the alarm on.
_NOT_NOW = re.compile(
    r"\b(will(?! not)|would(?! not)|could(?! not)|might|if|risk|risks|chance|chances|likely|likelihood|prevent|"
    r"avoid|odds|how many|percent|worried about|afraid of|scared of|fear of|frightened of|terrified of|"
    r"in case|what happens|years ago|year ago|months ago|last year|in the past|history|previous|previously|"
    r"when i was|when she was|when he was|does that|do i need|am i|is that common|is it common|how common|"
    r"is that usual|is that normal for|(do not|dont|never) want to|so (that )?i (do not|dont)|should i|"
    r"at (the age of )?\d\d|in her (sixties|seventies|eighties|60s|70s|80s)|runs in (the|my) family|"
    r"my (grand)?(mother|mum|mom|father|dad|aunt|sister|grandma|granny|nan|nana)\b.*\b(had|died|used to)|"
    r"so many women|lots of women|people (who|on)|women (who|on)|men (who|on)|in (19|20)\d\d|"
    r"runs? in (the |my )?famil(y|ies)|we joke|skiing|snowboarding|playing (football|rugby|netball)|"
    r"no (damage|harm|injury|injuries|bruises?|broken bones)|not hurt|unhurt|nothing (broken|hurt)|no harm done|"
    r"(possible|can you|can i|could you) (to )?overdose on (calcium|vitamin d|vit d|supplements|vitamins)|"
    r"last (winter|summer|spring|autumn|christmas|month)|at christmas|(it )?(really )?scared me)\b"
)
_PRESENT_CUES = re.compile(
    r"\b(just now|right now|and now(?! (i am|im|i m|i have been|ive been|i take|i am taking|she is|he is|on|taking|my (dexa|scan|t score)))|today|this morning|this afternoon|this evening|since this|tonight|last night|"
    r"an hour|minutes ago|yesterday|"
    r"cannot get up|cannot stand|cannot move|cannot walk|help me|please help|hurts|hurting|swollen|swelling|"
    r"bleeding|agony|just (fell|broke|had a fall)|on the floor|ambulance|"
    r"(just|have just|ve just) realised|dizzy|confused|drowsy|nodding off|"
    r"can see the bone|call (999|911|112|000))\b"
)

# Everyday idioms that borrow the words of an emergency. They are removed before the rules read the text,
# so that "these hot flashes are killing me" is answered as a question about hot flashes. "X is killing me"
# stays an alarm when X is the person: "i am killing myself", "i will kill myself".
_IDIOMS = re.compile(
    r"\b(\w+ )?(is|are|was|were|s|been|keeps?|keep on) (just |literally |absolutely |really |slowly )?killing me\b"
    r"|\bkilling (me|time)\b(?= (slowly|lol|haha|already|with|this|these|the|every|since|right now|today|at night))"
    r"|\b(dying|dieing) (to|for) (know|see|hear|find out|get|have|try|ask|read|learn|tell|a|an|some|my)\b"
    r"|\b(dead|deathly) (tired|bored|on my feet|serious|set on|easy|right|ahead)\b"
    r"|\b(tired|bored|scared|frightened|worried|sick|terrified|freezing) (to death|stiff)\b"
    r"|\bworried sick\b|\b(could|would|i would|i could) kill for\b|\bto die for\b"
    r"|\b(nearly|almost|could have|could of) died (laughing|of (embarrassment|shame|boredom|fright))\b"
    r"|\bthe death of me\b|\bkill (two birds|the pain|the bugs|the germs|cancer cells|the cells)\b"
    r"|\b(will|would|is going to|gonna|going to|is gonna|are going to) kill me (if|when|for|lol|haha)\b"
    r"|\b(do not|dont|did not|didnt|will not|wont) kill me\b.*\b(will|lol|haha)\b|\bif (\w+ ){1,4}(do not|dont) kill me\b"
    r"|\bkill(ing)? my ?self laughing\b|\b(it|that|this) kills? me (to|that|when|how)\b"
    r"|\b(?<!would )(?<!will )(?<!could )(?<!can )(?<!does )(?<!did )(the \w+|it|this|that|what|which) kills? me\b(?! (now|tonight|today|please))"
    r"|\b(nearly|almost) fell (off|out of) my (chair|seat|bed)\b|\bbruised (his|her|my|their) (pride|ego)\b"
    r"|\b(fell|fallen|falling) off the wagon\b|\bbreaking news\b|\bover my dead body\b|\bdrop dead (gorgeous|beautiful)\b|\bdying of (boredom|curiosity|embarrassment|laughter)\b"
    r"|\b(my|the) (phone|battery|laptop|car|plant|plants|tv) (is |has |just )?(dying|died|dead)\b"
    r"|\bkill(ing)? (me )?(with kindness)\b|\b(you are|youre) killing it\b|\bdead (heat|end job|zone)\b"
    r"|\bkill me now\b(?= (the|my|this|that|these|those|its|lol|haha|another|a|an|whole|work|traffic|queue)\b)"
    r"|\b(lost|losing) (my|her|his|our|a) (\w+ )?(\w+ )?to suicide\b"
    r"|\bnot suicidal\b|\b(i|she|he) (do not|dont|does not|doesnt) want to die\b(?! (like this|alone|but))|"
    r"\bno (thoughts?|intention|plans?) (of|to|about) (hurting|harming|killing|ending|hurt|harm|kill|end) "
    r"(my ?self|it|my life|things)\b|\b(tired|sick) of (fighting|trying|everything|it all) not in a "
    r"(dark|bad|suicidal|dangerous|scary|serious) way\b|"
    r"\bno suicidal (thoughts|feelings|ideas)\b"
    r"|\b(asked|asks|asking) (me )?(if|whether) i (ever )?(think|thought|have thought|had thoughts) (about|of) "
    r"(ending|killing|hurting|harming) (my ?self|my life|it)\b(?=.*\bi said no\b)"
    r"|\b(feel|feeling) like a burden (because|as|since) (\w+ ){0,4}(have|has|had) to (drive|take|bring|ferry)\b"
    r"|\b(i|she|he) (do not|dont|does not|doesnt) want to (hurt|harm|kill) (my|her|him)self\b"
    r"|\bself ?harmed (as a (teenager|teen|kid|child|young \w+)|when i was (young|a teenager|at school|a student)|"
    r"(\d+|many|a lot of) years ago)\b(?!.*\b(again|now|lately|recently)\b)"
    r"|\b(going to|gonna|want to|will) end it with (him|her|them|(my|the|this|that) (\w+ )?(trt |hrt )?(clinic|doctor|gp|"
    r"surgery|practice|hospital|consultant|specialist|oncologist|pharmacy|provider|trainer|gym|boyfriend|girlfriend|"
    r"husband|partner|fella|guy|man))\b"
    r"|\bif (\w+ ){1,10}((he|she|they|you|my \w+) (will|would|is going to|gonna|going to)|hell|shell|theyll|youll)"
    r" kill me\b"
    r"|\bone more time\b.*\b(going to|gonna|will|ll) (jump off|throw (my|him|her)self|kill (me|him|her|my ?self))\b"
    r"|\b\w+s (just |really )?killing me\b|\b(fell|falling|fall|fallen|falls) (asleep|in love)\b"
    r"|\bnot (depressed or |suicidal or )?(going to do|gonna do|thinking of|thinking about|planning) (doing )?anything "
    r"(stupid|daft|silly|drastic)\b"
    r"|\b(am|i am|im) not (thinking|planning) (of|about|on) (hurting|harming|killing|ending) (my ?self|my life|it)\b"
    r"|\b(thought|thoughts|thinking) (about|of) (ending it( all)?|suicide|killing my ?self|ending my life)\b"
    r"(?=.*\b(years ago|back then|at the time)\b)(?=.*\b(good place|got help|much better|better now|fine now)\b)"
    r"|\b(years ago|back then)\b( \w+){0,4} (thought|thoughts|thinking) (about|of) (ending it( all)?|suicide|killing my ?self|"
    r"ending my life)\b(?=.*\b(good place|got help|much better|better now|fine now)\b)"
    r"|\bfeel(ing)? like a burden (sometimes |at times )?(on|to) (my )?\w+ (having|because|as) (\w+ )?to (drive|take|bring|ferry)\b"
    r"|\b(back|knees?|hips?|joints?|feet|hands|head|neck|shoulders?|legs?|wrists?) (is |are |s )?(just |really )?"
    r"killing me\b"
    r"|\b(cannot|can not|cant) (go on|carry on|cope) (like this )?with (these|the|my|this) (hot flushes|hot flashes|flushes|flashes|"
    r"night sweats|sweats|joint pains?|aches|side effects|insomnia)\b"
    r"|\b(this|the|my) (drug|medicine|medication|tablet|pill|letrozole|anastrozole|exemestane|heat|weather|job) (is |s )?"
    r"(trying to|going to|out to) kill me\b"
    r"|\boverdose on (chocolate|cake|sweets|biscuits|coffee|tv|netflix|mince pies|turkey|sugar)\b"
    r"|\b(going to|gonna|will|could|might|ll|about to) die of (boredom|embarrassment|laughter|laughing|shame|curiosity|old age)\b"
    r"|\b(cat|cats|dog|dogs|puppy|kitten|pets?|stairs|weather|heat|gym|trainer|physio) (is |are |s )?(trying to|going to|out to) kill me\b"
    r"|\b(back|knees?|hips?|joints?|feet|hands|neck|shoulders?|legs?|wrists?) (really |just |absolutely )?kill me\b"
    r"|^(ugh |argh |oh )?kill me\b(?= (they|the|my|this|its|it is|now the|again))"
)

# Said of a pill mishap, these mean nothing was swallowed: "noticed before i swallowed it", "the packet was
# still sealed". Such a message is answered, with the emergency line, rather than given the poison-centre
# reply; anything that says a tablet did go down keeps the alarm.
_NOTHING_SWALLOWED = re.compile(
    r"\bbefore (i|he|she|they|it|the dog) (swallowed|took|went near|got to|reached)\b"
    r"|\b(noticed|realised|realized|caught it|saw|spotted) (it )?(in time|just in time|before)\b"
    r"|\b(nothing|none of them|none) (is |are |was |were |got )?(swallowed|missing|eaten|taken)\b"
    r"|\b(still|all) (sealed|intact|there|accounted for)\b|\b(lids?|packet|pack|box|blister) (was |were )?(shut|closed|sealed)\b"
    r"|\b(did not|didnt|never) (swallow|take|eat) (it|them|any|one)\b|\bonly took the one\b"
    r"|\b(nobody|no one|noone) (took|swallowed|ate|has taken) (anything|any|them|it)\b"
    r"|\b(grabbed|took|snatched|got) (it|them|the \w+) (off|from|away from) (him|her|them)\b"
)
_SWALLOWED_ANYWAY = re.compile(
    r"\b(but|and) (he|she|i|they) (had|did) (swallowed|swallow|taken|take)\b|\bsome are missing\b"
)


def nothing_swallowed(canonical_text: str) -> bool:
    """Tell whether a message about a pill mishap says that nothing was swallowed."""
    text = without_idioms(canonical_text)
    return bool(_NOTHING_SWALLOWED.search(text)) and not _SWALLOWED_ANYWAY.search(text)


class PatternList:
    """Search a list of patterns as one alternation would, without building the alternation.

    Python's ``re`` tries every branch of an alternation at every position of the text: the crisis
    patterns joined into one took about four times as long as searching each of them on its own.
    """

    def __init__(self, patterns: list[str]) -> None:
        self._compiled = tuple(re.compile(pattern) for pattern in patterns)

    def search(self, text: str) -> re.Match[str] | None:
        """Return the leftmost match, the earlier pattern winning a tie, as ``a|b|c`` would."""
        best: re.Match[str] | None = None
        for pattern in self._compiled:
            found = pattern.search(text)
            if found is not None and (best is None or found.start() < best.start()):
                best = found
                if best.start() == 0:
                    break
        return best

    def found_in(self, text: str) -> bool:
        """Tell whether any pattern occurs in the text."""
        return any(pattern.search(text) is not None for pattern in self._compiled)


_CRISIS_RE = PatternList([*_CRISIS, *_CRISIS_EXTRA])
_URGENT_RE = PatternList([*_URGENT, *_URGENT_EXTRA])
_OVERDOSE_RE = PatternList(_OVERDOSE)
_PET_RE = PatternList(_PET)


def without_idioms(canonical_text: str) -> str:
    """Return the text with everyday idioms that sound like emergencies taken out."""
    return " ".join(_IDIOMS.sub(" ", canonical_text).split())


def is_about_now(canonical_text: str) -> bool:
    """Tell whether an injury message describes something happening now, not a risk, a fear or history."""
    return not _NOT_NOW.search(canonical_text) or bool(_PRESENT_CUES.search(canonical_text))


# A fall told as harmless ("not a scratch", "only bruised my pride", "got straight back up") is not an
# emergency, unless something in the message still says it is.
_UNHARMED = re.compile(
    r"\b(no (damage|harm|injury|injuries|bruises?|broken bones)|not hurt|unhurt|nothing (broken|hurt)|"
    r"no harm done|not a scratch|not even a (scratch|bruise)|only bruised (my|his|her|their) (pride|ego)|"
    r"(got|jumped|was) (straight |right )?back up|no fracture|no break|nothing was broken|"
    r"(x ray|xray|scan|scans) (was |were |came back )?(clear|normal|fine)|no pain|got (up|myself up|himself up|herself up) fine|"
    r"(got|picked) (himself|herself|myself) (up|back up)|nothing hurts|got up (on|by) (my|her|his) own|"
    r"walking (fine|normally|ok|okay)|no (real )?swelling|(it was|was) (just|only) (stubbed|a stubbed toe)|better now just (a bit |slightly )?(stiff|sore|achy)|(pride|ego) bruised|nothing else (hurt|broken|damaged)?)\b"
)
_STILL_HURT = re.compile(
    r"\b(cannot|can not|cant|unable to) (get up|stand|move|walk|bear weight|put weight)|\bhelp (me|him|her|us)\b|"
    r"\b(please|for|get|need|needs|needed|getting) help\b|(?<!nothing )(?<!not )hurts|hurting|"
    r"painful|(?<!no )pain|swollen|(?<!no )(?<!no real )swelling|bleeding|agony|on the (\w+ )?floor|stuck|ambulance|looks wrong|deformed|numb\b|"
    r"\bmuddled|\bconfused|\bdrowsy|\bheadache|asking the same|repeating (her|him|my|them)self"
)


def unharmed(canonical_text: str) -> bool:
    """Tell whether a message about a fall says that nobody was hurt."""
    return bool(_UNHARMED.search(canonical_text)) and not _STILL_HURT.search(canonical_text)


# "took two instead of one, does that matter?" asks about what just happened, not about a risk.
_ASKING_ABOUT_IT = re.compile(
    r"\b(does that|does it|is that|is it|will that|would that|could that) (\w+ )?(matter|dangerous|bad|serious|"
    r"a problem|ok|okay|harmful|safe|an issue)\b|\bshould i (worry|be worried|call|ring|go)\b"
)


def rule_hit(canonical_text: str) -> RuleHit | None:
    """Return what the rules find in a canonical English message, or None."""
    text = without_idioms(canonical_text)
    if not text:
        return None
    crisis = _CRISIS_RE.search(text)
    if crisis is not None and not (_WEAK_CRISIS.fullmatch(crisis.group(0)) and _URGENT_RE.found_in(text)):
        return RuleHit(CRISIS, "weak_crisis" if _WEAK_CRISIS.fullmatch(crisis.group(0)) else "crisis")
    asked_now = is_about_now(_ASKING_ABOUT_IT.sub(" ", text.replace("if ", "")))
    if _PET_RE.found_in(text) and asked_now:
        return RuleHit(URGENT, "pet")
    if _OVERDOSE_RE.found_in(text) and asked_now:
        return RuleHit(URGENT, "overdose")
    if _URGENT_RE.found_in(text) and is_about_now(text) and not unharmed(canonical_text):
        return RuleHit(URGENT, "injury")
    if crisis is not None:
        return RuleHit(CRISIS, "weak_crisis")
    return None


def safety_intent(canonical_text: str) -> str | None:
    """Return ``crisis`` or ``urgent_symptoms`` when the rules call for a safety reply, else None."""
    hit = rule_hit(canonical_text)
    if hit is None:
        return None
    return "crisis" if hit.kind == CRISIS else "urgent_symptoms"
