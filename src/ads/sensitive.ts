/**
 * Sensitive-topic gate: decides whether a conversation must never carry a promotion.
 *
 * Design notes (why it looks like this):
 * - A missed sensitive topic is far worse than a lost impression, so the lists lean towards blocking,
 *   but each entry is phrased narrowly enough that ordinary shopping and developer talk passes
 *   ("shoot a video", "killer app", "the app keeps crashing", "bleeding-edge", "cache poisoning").
 * - Words that are mostly figurative only block inside a phrase: "headache" alone passes,
 *   "severe headache" blocks; "died" alone passes ("my laptop died"), "my dad died" blocks.
 * - Minors only block together with a sensitive context (abuse, sexual, custody, ...) or when the
 *   user says they are a minor ("I'm 14"); "running shoes for my kids" passes.
 * - Judgment calls: "drug store coupon" passes (bare "drug" is retail; "drug addiction" blocks);
 *   "pregnancy pillow" passes (plain pregnancy shopping is fine; complications like miscarriage or
 *   bleeding block); "back pain" blocks (a health condition, even if products exist for it);
 *   "Cancer" the zodiac sign blocks (accepted false positive).
 * - Speed: everything is compiled once at load into nine regexes (a union plus one per category).
 *   Alternatives are bucketed by their first character, so the engine rejects most word starts
 *   after a few comparisons; the union scans the text and category regexes only probe, anchored,
 *   where it matched. About 10–30 µs per 2 KB text on a shared 2-core box.
 */

export type SensitiveCategory =
  | 'medical' | 'self_harm' | 'mental_health_crisis' | 'addiction' | 'sexual' | 'minors' | 'tragedy' | 'violence_abuse';
export type SensitivityResult = { sensitive: boolean; category: SensitiveCategory | null; matched: string | null };

// Fragment syntax: regex source, lower case, top-level "|" separates alternatives, a space means
// "whitespace or hyphen" (so "self harm" meets "self-harm"), an apostrophe is optional and may be
// typographic ("i'm" meets "im", "i’m"). {NAME} expands to the shared groups below.
const SHARED: Record<string, string> = {
  FAM: 'mom|mum|mommy|mother|dad|daddy|father|parents?|brother|sister|siblings?|sons?|daughters?|child|bab(?:y|ies)|husband|wife|' +
    'partner|boyfriend|girlfriend|fianc[eé]e?|(?:best )?friend|grandma|grandmother|grandpa|grandfather|grandparents?|aunt|uncle|' +
    'cousin|niece|nephew|dog|cat|pet|twin|stepdad|stepmom|family member|loved one',
  POSS: 'my|our|his|her|their',
  MINOR: 'child|children|kids?|kiddos?|teens?|teenagers?|teenage|tweens?|preteens?|minors?|underage|toddlers?|bab(?:y|ies)|' +
    'infants?|newborns?|sons?|daughters?|stepsons?|stepdaughters?|boys?|girls?|students?|niece|nephew|' +
    'grandchild(?:ren)?|grandsons?|granddaughters?|(?:[1-9]|1[0-7]) ?(?:years?|yrs?) old|(?:[1-9]|1[0-7]) ?yo',
  // Contexts that make a mention of a minor sensitive; kept apart from everyday verbs ("beats" is a brand).
  MCTX: 'sex\\w*|nudes?|nudity|naked|porn\\w*|explicit (?:photos?|pictures?|images?|videos?)|abus(?:e|ed|es|ing|ive|er)|' +
    'molest\\w*|rap(?:e|ed|ing)|touched (?:me|her|him|them|by)|inappropriately|predators?|traffick(?:ed|ing)|' +
    'kidnapp?(?:ed|ing)|abducted|ran away|runaway|(?:is|went|has gone|gone|are) missing|bullied|bullying|custody|neglect(?:ed)?|' +
    '(?:is|are|was|been|started|keeps|caught (?:him|her|them)) (?:drinking|smoking|vaping|using drugs|doing drugs)|drunk|drugs|vap(?:e|es|ing)',
  // NEARn: the next phrase starts within n words, without crossing sentence punctuation.
  NEAR6: '(?:[^\\w.!?]+\\w+){0,5}?[^\\w.!?]+',
  NEAR4: '(?:[^\\w.!?]+\\w+){0,3}?[^\\w.!?]+',
  BODY: 'arms?|legs?|wrists?|ankles?|bones?|ribs?|neck|back|hips?|collarbone|fingers?|toes?|nose|jaw|shoulders?|knees?|elbows?|foot|feet|skull|spine',
};

const CATEGORIES: [SensitiveCategory, string[]][] = [
  // Priority order: when a text matches several categories, the first listed wins.
  ['self_harm', [
    // Lookahead keeps the film and the car body style ("suicide doors") out; misspellings included.
    'su(?:icide|icides|icidal|icidality|cide|icde|iside|isidal|icidial)(?! squad| doors?| bomb\\w*)',
    'kill(?:ing)? myself|killed (?:himself|herself|themselves)|(?:died|death) by suicide|took (?:his|her|their) own life',
    'end(?:ing)? (?:my|it) (?:own )?life|end(?:ing)? it all|tak(?:e|ing) my (?:own )?life|unalive(?: myself)?',
    'want(?:ed)? to die|wanna die|wish i (?:was|were) dead|better off dead|no reason to (?:live|go on)',
    "(?:don't|do not|no longer) want to (?:live|be alive|exist|wake up)",
    'self (?:harm|harming|injury|injure|mutilation)|(?:cutting|harming|hurting|burning) myself',
    '(?:want|going|trying|tempted|urge) to (?:hurt|harm|cut|kill) myself|slit(?:ting)? my wrists?|hang(?:ing)? myself',
    '(?:jump|jumping) off (?:a|the) (?:bridge|building|roof)|overdose on purpose',
    // Common euphemisms of suicidal thinking (crisis-line warning-sign lists).
    "sleep forever|(?:go to sleep|fall asleep) and (?:never|not) wake up|never wake up again|(?:would|will) (?:all )?be better off without me|won't be (?:around|here) (?:much longer|for much longer|anymore)",
  ]],
  ['minors', [
    'child (?:abuse|abuser|porn\\w*|sexual abuse|exploitation|trafficking|custody|protective services|molest\\w*|predators?|neglect)',
    'custody (?:battle|fight|hearing|dispute|case|of (?:my|our|the) (?:kids?|child|children|son|daughter))',
    'p(?:a)?edophil\\w*|csam|underage (?:drinking|sex\\w*|girls?|boys?)|(?:teen|teenage|underage) pregnan\\w*',
    '(?:daughter|teen|teenager|girl|stepdaughter|niece) (?:is|got|might be|may be|could be) pregnant',
    // The user says they are a minor: an age 5–17 followed by "years old" or the end of a clause,
    // so "I'm 14 hours into this bug" does not count; nor does "explain it like I'm 5" (a request for a simple answer).
    "i(?<!(?:like|as if|as though) i)(?:'m| am) (?:only |just )?(?:[5-9]|1[0-7])(?: ?(?:years?|yrs?) old| ?yo| ?y/o|(?=\\s*(?:[,.!?;]|and\\b|$)))",
    "(?:i(?:'m| am) a|as a) (?:[5-9]|1[0-7]) ?(?:(?:years?|yrs?) old|yo|y/o)|i(?:'m| am) (?:a )?(?:minor|teen|teenager|in middle school|in junior high|in (?:[5-8])th grade)",
    '(?:beat|beats|beating|hit|hits|hitting|hurts?|hurting|slapped|punched|kicked|choked|shook|shaking|burned) (?:my|our|the|his|her) (?:kids?|child|children|son|daughter|baby|toddler)',
    'groom(?:ed|ing) (?:(?:my|a|our|the|her|his|your) )?(?:{MINOR})|online grooming|(?:was|being|been|got) groomed',
    // Co-occurrence within six words of the same sentence, either order.
    '(?:{MINOR}){NEAR6}(?:{MCTX})',
    '(?:{MCTX}){NEAR6}(?:{MINOR})',
  ]],
  ['violence_abuse', [
    'domestic (?:violence|abuse|abuser)|abused|abusers?|being abused|(?:sexual|physical|emotional|verbal|psychological|spousal|elder) abuse',
    'abusive (?:relationship|partner|husband|wife|boyfriend|girlfriend|parents?|father|mother|home|marriage|ex)',
    'rap(?:e|ed|es|ing|ist|ists)|sexual(?:ly)? (?:assault\\w*|harass\\w*|abus\\w*)|molest\\w*|grop(?:ed|ing)',
    '(?:was|been|got|being) assaulted|assaulted me|(?:physical|aggravated) assault',
    'stalk(?:ing|ed|s) me|(?:a|my) stalker|restraining order|protective order|afraid for my life|fear for my (?:life|safety)',
    '(?:he|she|they|(?:my )?(?:ex|husband|wife|boyfriend|girlfriend|partner|dad|father|mom|mother|stepdad|stepfather|parents?)) ' +
      '(?:hits|beats|beat|hit|chokes|choked|strangled|punched|slapped|kicked|threaten(?:s|ed)|hurts|abus(?:es|ed)) me(?! up)',
    'threaten(?:ed|ing|s)? to (?:kill|hurt|beat|shoot|stab) (?:me|us|my)|beaten (?:up|badly)|battered (?:wife|woman|women)',
    'kidnapp?(?:ed|ing)|human trafficking|sex trafficking|trafficked|stabbed|honou?r killing|hate crimes?',
    'being bullied|bull(?:y|ies|ying) me|cyberbull\\w*',
    // Untraceable weapons made at home.
    '3d print(?:ed|ing|able)? (?:a )?(?:gun|firearm|pistol|rifle)s?|(?:3d )?print(?:er)? files? for (?:a )?(?:gun|firearm|pistol|rifle)|ghost guns?|untraceable (?:gun|firearm|pistol)s?',
  ]],
  ['sexual', [
    'sex(?:ual|ually|uality|y|ier|iest|ting|ts)?|porn\\w*|nudes|nudity|naked(?! domains?| urls?| eye| juice| truth)|nsfw|erotic\\w*|orgasm\\w*|masturbat\\w*',
    'hentai|onlyfans|(?:blow|hand) ?jobs?|fetish\\w*|bdsm|horny|threesomes?|foreplay|intercourse',
    'penis|vaginas?|genitals?|genitalia|clitoris|boobs|tits|titties|condoms?|stds|stis|sexually transmitted',
    'cam ?girls?|escort (?:service|agency|girls?)|strip ?clubs?|(?:sex|adult|bedroom) toys?|dildos?',
    // A strip club by its euphemism, and dancing there as a job (a men's club alone is also a social club); paid
    // domination as a job, and a domme.
    "gentlem[ae]n's clubs?|exotic danc(?:ers?|ing)|danc(?:e|es|ing|ers?) (?:at|in) (?:a|the) men's clubs?|dominatri(?:x|xes|ces)|dommes?|findom",
    // Sex toys by name ("strap-on" alone is also a cleat or a binding; a vibrator also compacts concrete). The
    // exception looks back from the end, as "great depression" does, so the phrase keeps its first-letter bucket.
    'vibrators?(?<!concrete vibrators?)|butt ?plugs?|cock ?rings?|(?:pegging|strap-?on) (?:harness(?:es)?|kits?|dildos?)',
    // Selling sexual content on camera, said as a job.
    '(?:web)?cam ?(?:models?|modell?ing|shows?|performers?)|camming',
    // Paid companionship, said as a job or a service (not a police escort, escorting children, or the car).
    "escorts(?! (?:mk|mark) ?\\d)|escorting(?! (?:the|my|our|his|her|them|kids|children|guests|visitors|students|pupils)\\b)|escort (?:sites?|services?|agenc(?:y|ies)|work|business|clients?|girls?|boys?)|(?:independent|high ?end|private|male|female) escort|(?:independent|paid|private|high ?end) companion(?:ship)?|(?:work|working|worked|started) as an? escort",
    // The same trade in softer words: intimacy that is paid for or sold ("I see clients for paid intimacy"; not a
    // film set's paid intimacy coordinator).
    '(?:paid|paying) intimacy(?! coordinat)|intimacy for (?:money|cash|pay)|sell(?:s|ing)? intimacy|sold intimacy',
    // Asking for explicit content, its sites and apps, said without the words above ("adult" and "nude" alone are
    // sizes, tickets and colours; "xxx" alone is a placeholder; "kinky" and "stripper" have other senses).
    'adult (?:movies|videos?|vids?|films|sites?|websites?|content|entertainment|webcams?|cams?|chat ?rooms?)|xxx (?:videos?|vids?|movies?|sites?|content|pics?|photos?)|x ?rated|saucy (?:photos?|pics?|pictures?|content|videos?|vids?)|dirty (?:videos?|vids?|movies?|films?|pics?|photos?|pictures?|sites?|chat|talk|texts?)|boudoir (?:photo\\w*|shoots?|sessions?|portraits?|pictures?|pics?|albums?)',
    '(?:free|live) cam(?:s| sites?| shows?)|hook ?up (?:apps?|sites?)|one night stands?|friends with benefits|booty calls?|casual encounter(?:s| sites?| apps?)',
    // A paid page of one's own explicit content, and making it, said with the platforms' euphemism ("spicy content").
    'spicy (?:subscription|fan|content) (?:pages?|accounts?|sites?)|spicy content|spicy creators?',
    // The same page said as a subscription or fan site "for (grown) adults".
    '(?:subscription|fan) (?:sites?|pages?|platforms?|accounts?) for (?:grown )?adults',
    // Private photos or clips made for subscribers (videos for one's subscribers alone are a channel's).
    'private (?:photos?|pics?|pictures?|clips?|videos?|photo ?(?:work|sets?|shoots?))(?: (?:i|we) (?:make|sell|post|shoot|film))? (?:for|to) (?:my |our )?(?:paying )?subscribers',
    // Intimate images by name: sold, shared or leaked, they are sexual content ("intimate" alone is a dinner or a venue).
    'intimate (?:photos?|pics?|pictures?|images?|clips?|videos?|vids?|content|shots?|portraits?)',
    // Topless images by name (a topless car is not).
    'topless (?:photos?|pics?|pictures?|images?|clips?|videos?|vids?|content|shots?)',
    // Pole dancing as a club's shifts (pole fitness as a class is not: "on the pole" alone).
    'shifts? on the pole|on the pole at (?:a|the|my) (?:club|bar)',
    // Stripping as one's job (a paint or wire stripper is a tool, so only the person's job counts).
    "(?:i'm|i am|work(?:s|ing|ed)? as|jobs? as) an? (?:self employed |freelance |exotic )?stripper",
    // Opening a marriage or relationship to other partners (not being open with one's partner about something, not a
    // relationship between or with teams or firms, nor an open relationship with a supplier, client or doctor).
    'open(?:ing|ed)? up (?:our|my|the|their|his|her) (?:marriage|relationship(?! (?:between|with)))|open marriages?',
    '(?:an|our|in an) open relationships?(?! with (?:our |the |your |their |its |my |a |an )?(?:suppliers?|vendors?|clients?|customers?|team|staff|employees?|doctors?|gp|bank|landlord|manager|boss|colleagues?))',
    // "Grown-up" photos, pictures and clips as a euphemism for explicit ones (not grown-up children).
    'grown ?up (?:photos?|pics?|pictures?|content|videos?|vids?|clips?|photo ?shoots?|subscription)',
    // "18+" said of content, sites and pages (not of an event or a game's age rating).
    '18\\+ (?:content|videos?|vids?|movies?|films?|sites?|websites?|pages?|scenes?|chats?|photos?|pics?|pictures?|platforms?|ones?|kind|stuff)',
    'nude (?:pics?|photos?|pictures?|selfies?|videos?)|sugar (?:daddy|daddies|baby|babies)|lap ?dances?|bondage',
    // Explicit pictures and clips, made, sold or asked for, and latex worn as fetish wear (latex alone is a
    // mattress layer, a glove and an allergy).
    'explicit (?:pics?|photos?|pictures?|images?|selfies?|videos?|vids?|clips?|content|material)',
    'latex (?:play|catsuits?|outfits?|lingerie|bodysuits?|fetish\\w*)',
    // A leather harness worn by a person is fetish wear; one for a dog, a horse or a cat is tack.
    'leather harness(?:es)?(?! for (?:a |an |my |the |our |your |his |her |their )?(?:(?:small|big|large|little|young|new|old) )?(?:dogs?|pups?|puppy|puppies|horses?|pony|ponies|cats?|kittens?|ferrets?|rabbits?|goats?))',
  ]],
  ['mental_health_crisis', [
    '(?:panic|anxiety) attacks?|(?:nervous|mental|emotional) breakdowns?|having a breakdown|depress(?:ion|ed|ive)(?<!great depression)',
    'eating disorders?|anorexi(?:a|c)|bulimi(?:a|c)|binge ?eating|binge and purge|purging after (?:eating|meals?)|starv(?:e|ing) myself|pro ana|thinspo\\w*',
    "psychosis|psychotic|hearing voices|schizophreni\\w*|bipolar (?:disorder|depression|episode|mania)|(?:i'm|i am|he's|she's|is) bipolar|manic episode|ptsd|post traumatic|trauma(?:tized|tised|tic)?",
    // "I'm hopeless with computers / at maths" is about a skill, not despair ("hopeless at times" still is).
    "(?:feel|feeling|i'm|i am) (?:so |completely |totally )?(?:hopeless(?! with | when it comes to | at (?!times\\b|night\\b|the moment\\b|this point\\b|life\\b|everything\\b))|worthless|empty inside)",
    // A blender, a mower or an app that "can't cope", and people who "can't cope with downloading apps", are not in crisis;
    // nor is a situation that "can't go on" ("it can't go on like this").
    "can't stop crying|can't go on(?<!\\b(?:it|this|that|things) can't go on)|can't take it anymore|can't cope(?<!\\b(?:blender|maker|mower|tool|thing|it|pump|filter|heater|boiler|laptop|computer|phone|router|machine|engine|fridge|freezer|oven|hoover|vacuum|battery|charger|printer|software|system|app|car|van|editor|program|browser|tablet|pc|server|wifi|connection) (?:just |clearly |really |simply )?can't cope)(?! with (?:downloading|installing|apps?|technology|tech|computers?|smartphones?|ice|frozen))|(?:mental|emotional) health crisis|crisis (?:line|hotline|text line)",
    '(?:severe|crippling|debilitating|constant) anxiety|anxiety (?:disorder|medication)|psych ward|psychiatric (?:ward|hospital|emergency|hold)',
    // No energy left for washing or getting up (cooking alone is what busy shoppers say too).
    "(?:no|zero|don't have the|haven't got the|haven't had the|have no) (?:energy|strength) to (?:wash|shower|bathe|get out of bed|get dressed)",
    // Not managing the basics of living any more (not the basics of a skill: "can't manage the basics of Excel").
    "(?:can't|cannot|can not) (?:manage|do|cope with|handle|keep up with) (?:even )?the basics(?! of\\b)",
  ]],
  ['addiction', [
    'addict(?:s|ed|ion|ions)?|adiction|alcoholi(?:c|cs|sm)|drinking problem|problem drinking|binge drinking|blackout drunk',
    "can't stop (?:drinking|gambling|using|smoking|vaping)|relaps(?:e|ed|es|ing)|sober|sobriety|rehab",
    // People in recovery, mostly from an addiction (not a phone or a drive in recovery mode, nor recovery after a run).
    "(?:people|folks|someone|anyone|those|i'm|i am|he's|she's|they're|we're|been|while) in recovery(?! mode)",
    '(?:drug|alcohol|opioid|substance) (?:detox|withdrawal|abuse|problem|habit|use disorder)|detoxing|detox from',
    'withdrawal symptoms|going through withdrawals?|in withdrawal|(?:alcohol|opioid|opiate|benzo|nicotine|heroin) withdrawal',
    'overdos(?:e|es|ed|ing)|od(?:\\x27|’)d|heroin|fentanyl|meth|methamphetamine|cocaine|crack (?:cocaine|pipe|addict|house)|smok(?:e|ed|es|ing) crack|opioids?|opiates?',
    'oxycodone|oxycontin|percocet|xanax|benzos?|ketamine|snort(?:ing|ed)|narcan|naloxone|methadone|suboxone',
    // Stimulant pills by their street name ("uppers" alone is the top of a shoe).
    'on uppers|taking uppers|popping uppers|uppers and downers',
    // Benzodiazepines and opioids by name, which people also seek without a prescription.
    'valium|diazepam|klonopin|clonazepam|ativan|lorazepam|hydrocodone',
    '(?:doing|on|using|taking|selling|buying) (?:hard )?drugs|drug (?:addiction|abuse|habit|problem|dealer|overdose)',
    '(?:gambling|gaming|alcohol|nicotine) (?:addiction|problem)|compulsive (?:gambling|gambler|eating|shopping)|gambling debts?',
    '(?:aa|na) meetings?|alcoholics anonymous|narcotics anonymous|(?:12|twelve) step (?:program|programme|meeting|recovery)',
  ]],
  ['tragedy', [
    'pass(?:ed|es|ing) away|passing of (?:{POSS})|funerals?|funeral home|grieving|bereave\\w*|mourning|mourns?',
    // "grief" alone is often figurative ("this config gives me grief").
    '(?:my|our|her|his|in|with|of|through|overwhelming|deep) grief|grief (?:counsel\\w*|support|groups?|stricken|therapy)',
    'condolences?|obituar(?:y|ies)|eulog(?:y|ies)|memorial service|sympathy cards?|burial|cremat(?:e|ed|ion)|caskets?|coffins?(?! nails?)',
    // Being someone's executor now: a death behind an admin task (not what an executor does, asked in general, nor
    // being named one in a living parent's will).
    "(?:i'm|i am) (?:the |his |her |their |(?:{POSS}) (?:{FAM})'s )?executor",
    '(?:{POSS}) (?:{FAM}) (?:died|is dead|was killed|got killed|has died|just died|is dying)',
    // The date of a person's death, said by pronoun ("the day he died"; a phone or a laptop is "it").
    '(?:the|that) (?:day|night|morning|week|date) (?:he|she) (?:died|passed(?: away)?)',
    // Not "lost the baby weight" / "losing my baby fat" (after a birth, a diet, not a death), nor a family member's
    // belongings ("lost my son's teddy"; "lost my son's father" still counts).
    '(?:lost|losing) (?:my|our) (?:{FAM})(?! (?:weight|fat)\\b)(?!(?:\\x27|’)s (?!(?:{FAM})\\b))|death in the family|loss of (?:my|our|a) (?:\\w+ )?(?:{FAM})|(?:sudden|tragic|unexpected|untimely) (?:death|loss|passing)',
    // "lost my / our baby" is the family-member entry above (with the same weight / fat exception).
    'stillb(?:irth|orn)|lost the baby(?! (?:weight|fat)\\b)|sids|crib death',
    // An urn is bought for someone's ashes: a keepsake, a baby's, a small one.
    '(?:keepsake|memorial|cremation|baby|babys|infant|pet|tiny|small|little) urns?|urns? for (?:\\w+ ){0,2}ashes|ashes urns?',
    '(?:mass|school|church|synagogue|mosque|drive by|fatal|deadly|police) shootings?|active shooter|gunm(?:an|en)|' +
    'shooting (?:at|in) (?:a|the|my|our) (?:mall|school|church|concert|club|park|store|supermarket|synagogue|mosque|festival|office|hospital)',
    'got shot|been shot|shot (?:dead|and killed|to death)|gunshot wounds?',
    // Not someone "bombing" an interview, a test or a round of one, or a bike "bombing down" a hill.
    'terror(?:ist)? attacks?|terrorism|terrorists?|bombings?(?! (?:(?:the|my|every|each) )?(?:\\w+ )?(?:interviews?|exams?|tests?|rounds?|whiteboard|auditions?|presentations?|pitch(?:es)?)\\b| (?:down|around) )|suicide bomb\\w*|massacres?|genocide|ethnic cleansing',
    'war (?:casualties|victims|dead|crimes)|casualties|civilian deaths|death toll',
    'killed in (?:a|an|the) (?:\\w+ )?(?:crash|accident|attack|shooting|war|fire|explosion|bombing|earthquake|flood|hurricane|storm|collision)',
    '(?:\\d+|people|civilians|children|kids|students|soldiers|victims|dozens|hundreds|thousands) (?:were |have been |are )?(?:killed|died|murdered)',
    '(?:earthquake|hurricane|tornado|tsunami|flood|wildfire|fire|disaster|war|refugee|crash|shooting|attack|bombing|storm) (?:victims?|survivors?|relief)',
    '(?:fatal|deadly) (?:accident|crash|collision|fire|attack)|(?:car|plane|train|bus|motorcycle|helicopter) (?:crash|accident|wreck)(?! tests?)',
    // Housing crisis (optional in the brief); "evicted" alone would catch cache evictions. Sleeping "in the car" on a
    // road trip or after a tent broke is not; "in my car" as where one lives is.
    "homeless(?:ness)?|(?:living|sleeping) rough|sleeping on the streets?|living in my car|sleeping in my car(?! (?:\\w+ )?(?:at|on|for|during|while|when) (?:\\w+ )?(?:festivals?|road ?trips?|trips?|holidays?|camping|weekends?))|eviction notice|(?:i|we|i'm|we're|i am|we are|i was|we were|i've been|we've been) (?:being |getting |got |been )?evicted|lost (?:my|our) (?:home|house) (?:in|to)",
    // Not a murder mystery or a murder of crows; not music "drowned out".
    'murder(?:ed|s|er|ers)?(?! mystery| mysteries| of crows)(?<!called a murder)|homicide|manslaughter|drowned(?! out\\b)|died (?:from|of)',
  ]],
  ['medical', [
    'cancer(?:s|ous)?|tumou?rs?|malignant|leuka?emia|lymphoma|melanoma|carcinoma|sarcoma|chemo(?:therapy)?|radiotherapy|radiation therapy',
    // Infusions as a course of treatment (not tea, oil or flavour infusions, nor an espresso machine's pre-infusion), and
    // the cold caps worn during them.
    'infusions(?<!(?:tea|herbal|fruit|flavou?r|oil|water|pre) infusions)|(?:infusion|infusions) (?:sessions?|cycles?|days?|chairs?|suites?|centres?|centers?|rounds?|clinics?)|(?:rounds?|cycles?) of infusions?|cold caps?|scalp cooling',
    // Radiation as a course of treatment (not the physics: solar radiation, radiation fog, a router that gives off radiation).
    'radiation (?:treatments?|appointments?|appts?|sessions?|burns?)|(?:start|starts|started|starting|finish|finished|finishing|through|during|after) (?:(?:my|his|her|their|the|daily|weekly) )?radiation|(?:sessions? of|from the|pelvic|neck|throat|chest|breast|brain) radiation',
    'diabet(?:es|ic|is)|(?:had|having|have|has|suffered|minor|mild|major|massive) (?:a )?stroke|stroke (?:symptoms|warning signs|signs|victim|patient|survivor|recovery)',
    'heart attacks?|cardiac arrest|pacemakers?|heart failure|heart disease|arrhythmia|angina|palpitations|irregular heartbeat|blood clots?',
    // Chronic conditions by name ("a fib" alone is a small lie, so only "afib" and "a-fib"; the grey wolf is canis lupus;
    // gluten-free alone is a diet, coeliac disease a condition).
    "afib|a-fib|atrial fibrillation|lupus(?<!canis lupus)|crohn(?:'s)?|copd|endometriosis|fibromyalgia|multiple sclerosis|sciatica|coeliac|celiac",
    // Not goods or assets seized ("customs seizures", "drug seizures").
    's(?:ei|ie)zures?(?<!\\b(?:customs|police|drugs?|assets?|property|border|cargo|goods|counterfeit) s(?:ei|ie)zures?)|epilep\\w*|convuls\\w*|asthma|allergic reaction|anaphyla\\w*|epipen|alzheimer(?:\'s)?|alzhiemer(?:\'s)?|dementia|parkinson(?:\'s)?',
    'hiv|herpes|chlamydia|gonorrh(?:ea|oea)|syphilis|hepatitis|tuberculosis|p?n(?:eu|u|e)?monia|sepsis|meningitis|long covid|covid symptoms|tested positive',
    '(?:ear|sinus|urinary|urinary tract|bladder|kidney|yeast|bacterial|viral|fungal|skin|wound|staph|lung|chest|eye|tooth|throat) infections?|uti|infected (?:wound|cut|tooth|tattoo|piercing)',
    '(?:my|his|her|their|our|these|flu|cold|covid|stroke|pregnancy|early) symptoms|symptoms (?:started|are getting worse|got worse|won\'t go away)|(?:having|experiencing) symptoms',
    '(?:was|been|got|were|just|recently|being|newly) diagnosed|diagnosed with|misdiagnos\\w*|(?:medical|cancer|terminal|my|his|her) diagnosis|diseases?',
    "(?:can't|cannot|can not|unable to|hard to|trouble|difficulty) breath(?:e|ing)|short(?:ness)? of breath|chest pains?|chest tightness|tightness in (?:my|the) chest|(?:coughing|vomiting|throwing) up blood",
    "(?:blood|bleeding) (?:won't|will not) stop|bleeding (?:heavily|a lot|profusely|badly)|heavy bleeding|internal bleeding|unconscious(?! bias)|found (?:him|her|them|my \\w+) unresponsive",
    '(?:passed|passing) out(?! (?:the )?(?:flyers|leaflets|samples|coupons|candy|cards))|fainted|fainting|call(?:ed|ing)? (?:911|999|112|an ambulance)|ambulance|medical emergency|(?:in|to) the (?:er|icu)|(?:rushed|admitted|taken|went|go|going|brought) to (?:the )?hospital|in (?:the )?hospital (?:for|with|since|after)|hospitali[sz]ed|icu|intensive care|urgent care',
    '(?:chest|abdominal|stomach|pelvic|kidney|back|neck|joint|nerve|tooth|ear|sharp|severe|chronic|intense|excruciating|stabbing|shooting|throbbing|unbearable|constant) pains?|painkillers?|pain killers?',
    // "headache" alone is mostly figurative ("the headache of managing spreadsheets").
    '(?:severe|bad|terrible|horrible|splitting|constant|chronic|persistent|worst|sudden|pounding|throbbing|cluster|tension) headaches?|migraines?',
    'headaches? (?:and|with) (?:nausea|vomiting|fever|dizziness|(?:blurry|blurred|double) vision)|(?:blurry|blurred|double) vision|vision loss|losing my vision',
    // A laptop or a dashboard "throwing up" pop-ups or a warning is not vomiting.
    'dizziness|feel(?:ing)? dizzy|dizzy spells?|nause(?:a|ous)|vomit(?:ing|ed|s)?|throwing up(?! (?:a |an |the |some )?(?:[\\w-]+ ){0,3}(?:warnings?|errors?|messages?|codes?|alerts?|lights?|notifications?|pop-?ups?|adverts?|ads)\\b)|diarr?h(?:ea|oea)|numbness|tingling|swollen|swelling',
    'lumps? (?:in|on) (?:my|his|her)|(?:skin|itchy|red) rash|rashes|(?:high|low grade|bad|a|slight|mild) fever|fever (?:of|and|for|since|won\'t)|feverish',
    '(?:my|his|her) (?:{BODY}|chest|stomach|tummy|belly|head|tooth|teeth|ears?|eyes?|throat|heart) (?:hurts|is hurting|hurt|aches|is bleeding|is swollen|is numb|feels numb)',
    '(?:high|low) blood (?:sugar|pressure)|blood sugar (?:is|was|of|levels?)|hypoglycemi\\w*|hyperglycemi\\w*',
    // Blood sugar tracked for a condition, said without "blood": sugar or glucose readings and logs, glucose levels and
    // monitors.
    '(?:sugar|glucose) (?:readings?|logs?)|glucose (?:levels?|monitors?|monitoring)',
    'jaundice|blood (?:in|on) (?:my|his|her|the) (?:stool|urine|pee|poop)|persistent cough|cough(?:ing)? (?:for weeks|up)|sore throat',
    'injur(?:y|ies|ed)|(?:broken|broke|fractured|sprained|twisted|dislocated) (?:(?:my|his|her) )?(?:{BODY})|fractures?|concussions?|sprain(?:ed|s)?|whiplash',
    '(?:first|second|third|1st|2nd|3rd) degree burns?|(?:deep|open|stab|gunshot|bullet|head) wounds?|(?:need|needs|needed|get|got|getting) stitches|(?:hit|bumped|banged) (?:my|his|her) head|cut myself',
    'torn (?:acl|ligament|meniscus|muscle)|bitten by (?:a )?(?:dog|snake|spider|tick)|(?:snake|dog|tick) ?bites?',
    // Medication and dosage.
    'medications?|meds|prescribed|prescription (?:drugs?|meds|medication|pills?|refill)|dosages?|dosing|(?:double|missed|extra|max(?:imum)?|safe|lethal|right|correct|recommended) dose',
    'how (?:much|many) (?:mg|milligrams|pills|tablets|capsules|doses)|side effects of (?:(?:my|the|this|these) )?(?:medication|medicine|drugs?|pills?|vaccines?|treatment|birth control)|ibuprofen|advil|motrin|tylenol|acetaminophen|paracetamol|aspirin|naproxen',
    'antibiotics?|amoxicillin|penicillin|antidepressants?|ssris?|sertraline|zoloft|prozac|fluoxetine|lexapro|escitalopram|wellbutrin|insulin|metformin|warfarin',
    'statins?|prednisone|antihistamines?|benadryl|morphine|codeine|tramadol|gabapentin|adderall|ritalin|vicodin|erectile dysfunction',
    // Erectile dysfunction drugs by name (prescription medication for sexual health).
    'viagra|cialis|sildenafil|tadalafil|levitra|vardenafil|erection (?:problems?|trouble|issues|difficulties)',
    // Other prescription medicines people ask to buy online (sleep, weight loss, stimulants) and emergency contraception
    // ("plan b" alone is also a backup plan).
    'ambien|zolpidem|ozempic|wegovy|mounjaro|semaglutide|tirzepatide|vyvanse|modafinil|morning after pills?|emergency contraception|plan b (?:pill|one step)',
    'poison control|poisoned|(?:food|lead|alcohol|carbon monoxide|mercury|blood) poisoning|swallowed (?:a |an |some )?(?:batter(?:y|ies)|magnets?|coins?|pills?|bleach|detergent|poison|chemicals?)',
    // Pregnancy complications (plain pregnancy shopping is fine).
    'miscarr(?:y|iage|iages|ied|age)|ectopic|pre ?eclampsia|placenta(?:l)? (?:previa|abruption)|gestational diabetes|(?:high risk|complicated) pregnancy|pregnancy complications?',
    // Pregnancy near a warning sign, either order, within five words ("pregnant and I'm bleeding").
    '(?:pregnant|pregnancy){NEAR4}(?:bleeding|spotting|cramping|cramps|severe pain)|(?:bleeding|spotting|cramping|cramps){NEAR4}(?:pregnant|pregnancy)',
    '(?:preterm|premature) (?:labou?r|birth)|(?:my )?water broke|abortion|postpartum (?:hemorrhage|haemorrhage|bleeding)',
    'terminally ill|terminal (?:cancer|illness|diagnosis)|hospice|palliative|end of life care|(?:on|off) life support|coma|comatose|organ (?:failure|transplant)|(?:kidney|liver) failure|dialysis',
    'surger(?:y|ies)|(?:seriously|violently|critically|chronically|terminally|mentally) ill|violently sick|(?:feel|feeling|felt) (?:really |very )?sick',
    "(?:my|the) doctor (?:said|says|told|prescribed|thinks)|(?:see|go to|call) (?:a|the|my) doctor",
  ]],
];

/** Splits regex source on "|" at nesting depth 0 (outside groups and character classes). */
function splitTopLevel(src: string): string[] {
  const out: string[] = [];
  let depth = 0, inClass = false, start = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') { i++; continue; }
    if (inClass) { if (c === ']') inClass = false; continue; }
    if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) { out.push(src.slice(start, i)); start = i + 1; }
  }
  out.push(src.slice(start));
  return out;
}

function expand(fragment: string): string[] {
  const withShared = fragment.replace(/\{(\w+)\}/g, (_, name: string) => SHARED[name]);
  // Space and apostrophe rewriting happens after the split; neither appears inside my character classes.
  return splitTopLevel(withShared).map((alt) => alt.replace(/'/g, "['’]?").replace(/ \?/g, '[\\s\\-]*').replace(/ /g, '[\\s\\-]+'));
}

/**
 * Rewrites an alternative that opens with a group ("(?:my|our) dog died") into one alternative per
 * branch ("my dog died", "our dog died"), so that every alternative starts with a literal character.
 */
function distribute(alt: string): string[] {
  if (/^[a-z0-9]\?/.test(alt)) return [alt.slice(2), alt[0] + alt.slice(2)].flatMap(distribute);
  if (!alt.startsWith('(?:')) return [alt];
  let depth = 0, end = 0;
  for (let i = 0; i < alt.length; i++) {
    if (alt[i] === '\\') i++;
    else if (alt[i] === '(') depth++;
    else if (alt[i] === ')' && --depth === 0) { end = i; break; }
  }
  let tail = alt.slice(end + 1);
  if (/^[*+{]/.test(tail)) return [alt];
  const optional = tail.startsWith('?');
  if (optional) tail = tail.slice(1);
  const out = splitTopLevel(alt.slice(3, end)).map((branch) => branch + tail);
  if (optional) out.push(tail);
  return out.flatMap(distribute);
}

/**
 * One regex source for a list of fragments, alternatives grouped by their literal first character:
 * at each word start the engine compares one character per bucket instead of trying hundreds of
 * phrases. The few alternatives that open with a class or an escape ("\\d+ killed") stay unbucketed.
 */
function compile(fragments: string[]): string {
  const buckets = new Map<string, string[]>();
  const rest: string[] = [];
  for (const alt of fragments.flatMap(expand).flatMap(distribute)) {
    if (/^[a-z0-9](?![?*+{])/.test(alt)) {
      const list = buckets.get(alt[0]) ?? [];
      list.push(alt.slice(1));
      buckets.set(alt[0], list);
    } else rest.push(alt);
  }
  const parts = [...buckets].map(([first, tails]) => `${first}(?:${tails.join('|')})`).concat(rest);
  return `\\b(?:${parts.join('|')})\\b`;
}

// No 'i' flag anywhere: the text is lower-cased once, which keeps the engine on plain character
// compares (the flag made the union regex several times slower). ANY_RE is the union of all
// categories and scans the text; a category regex is only ever tried anchored ('y') at a position
// where the union matched, so a sensitive text costs one scan plus a few anchored probes.
const ANY_RE = new RegExp(compile(CATEGORIES.flatMap(([, fragments]) => fragments)), 'g');
const CATEGORY_RES: [SensitiveCategory, RegExp][] = CATEGORIES.map(([cat, fragments]) => [cat, new RegExp(compile(fragments), 'y')]);

/**
 * Classifies the given texts (e.g. every user and assistant message of a conversation). Each text
 * is matched on its own, so a phrase never straddles two messages. The highest-priority category
 * found in any text wins; `matched` is the phrase that triggered it, lower-cased, whitespace collapsed.
 */
export function classifySensitivity(texts: string[]): SensitivityResult {
  let best = CATEGORY_RES.length;
  let matched: string | null = null;
  for (const text of texts) {
    if (typeof text !== 'string' || text.length === 0) continue;
    const verdict = textVerdict(text);
    if (verdict.best < best) {
      best = verdict.best;
      matched = verdict.matched;
      if (best === 0) break;
    }
  }
  if (matched === null) return { sensitive: false, category: null, matched: null };
  return { sensitive: true, category: CATEGORY_RES[best][0], matched: matched.replace(/\s+/g, ' ').trim().slice(0, 80) };
}

/**
 * One text's highest-priority category (its index in CATEGORY_RES; CATEGORY_RES.length when none) and the
 * phrase that found it. Memoized for texts up to VERDICT_CACHE_CHARS characters (at most
 * VERDICT_CACHE_ENTRIES, cleared when full): a conversation's earlier turns come back with every request.
 */
const VERDICT_CACHE_ENTRIES = 2048;
const VERDICT_CACHE_CHARS = 4096;
const verdictCache = new Map<string, { best: number; matched: string | null }>();
function textVerdict(text: string): { best: number; matched: string | null } {
  const cacheable = text.length <= VERDICT_CACHE_CHARS;
  const cached = cacheable ? verdictCache.get(text) : undefined;
  if (cached) return cached;
  let best = CATEGORY_RES.length;
  let matched: string | null = null;
  const lower = text.toLowerCase();
  ANY_RE.lastIndex = 0;
  for (let m = ANY_RE.exec(lower); m !== null && best > 0; m = ANY_RE.exec(lower)) {
    // Probe only categories that would beat the best so far, at this exact start position.
    for (let c = 0; c < best; c++) {
      const re = CATEGORY_RES[c][1];
      re.lastIndex = m.index;
      const hit = re.exec(lower);
      if (hit) { best = c; matched = hit[0]; break; }
    }
    // Resume one character later, not after the match, so an overlapping phrase that starts
    // inside this one (and may rank higher) is still seen.
    ANY_RE.lastIndex = m.index + 1;
  }
  const verdict = { best, matched };
  if (cacheable) {
    if (verdictCache.size >= VERDICT_CACHE_ENTRIES) verdictCache.clear();
    verdictCache.set(text, verdict);
  }
  return verdict;
}
