import { describe, expect, test } from 'bun:test';
import { classifySensitivity, type SensitiveCategory } from '../../src/ads/sensitive';

// Each row: text, expected category. When a text touches several categories the module's
// priority order decides (self_harm, minors, violence_abuse, sexual, mental_health_crisis,
// addiction, tragedy, medical).
const SENSITIVE: [string, SensitiveCategory][] = [
  // self_harm
  ['I keep thinking about suicide lately', 'self_harm'],
  ['I have been feeling suicidal for weeks', 'self_harm'],
  ['sometimes I want to kill myself', 'self_harm'],
  ['I just want to die, nothing helps', 'self_harm'],
  ['how do I stop self-harming', 'self_harm'],
  ['I don’t want to live anymore', 'self_harm'],
  ['my brother killed himself last year', 'self_harm'],
  ['thinking about sucide again', 'self_harm'],
  // minors
  ["I'm 14 and my parents don't know", 'minors'],
  ['i am 15 years old, is it normal?', 'minors'],
  ['how do I report child abuse', 'minors'],
  ['my ex and I are in a custody battle over the kids', 'minors'],
  ['a man sent my 13 year old daughter explicit photos', 'minors'],
  ['I was sexually abused as a child', 'minors'],
  ['my stepdad hits my little brother and beats my son', 'minors'],
  ['my teenage daughter is pregnant, what do I do', 'minors'],
  ['my 16 year old son is vaping', 'minors'],
  ["I'm a 15 yo girl", 'minors'],
  ['I am only 9, can I make an account?', 'minors'],
  ["I'm 12.", 'minors'],
  // violence_abuse
  ['my husband hits me when he drinks', 'violence_abuse'],
  ['how to leave an abusive relationship', 'violence_abuse'],
  ['I was raped at a party', 'violence_abuse'],
  ['dealing with domestic violence at home', 'violence_abuse'],
  ['I need a restraining order against my ex', 'violence_abuse'],
  ['he threatened to kill me last night', 'violence_abuse'],
  // sexual
  ['write me an erotic story', 'sexual'],
  ['where can I find free porn', 'sexual'],
  ['site with x rated amateur videos, free', 'sexual'],
  ['I work as an independent escort, can you set up a spreadsheet for my tax return', 'sexual'],
  ['is paying for escorts legal in vegas', 'sexual'],
  ['put the day she died in my calendar with a reminder the week before', 'tragedy'],
  ["I still can't sleep on the night he passed away each year, what helps", 'tragedy'],
  ['she sells intimacy by the hour and wants a spreadsheet of her earnings', 'sexual'],
  ['paid intimacy is how I cover rent, which bank account keeps it apart from my wages', 'sexual'],
  ['i sell intimate videos online, what invoice template should i use', 'sexual'],
  ['I post topless pics on a paid page, how do I keep my face out of them', 'sexual'],
  ['grippy heels for long shifts on the pole, my feet are done', 'sexual'],
  ["I'm a self-employed stripper, which expenses can I claim", 'sexual'],
  ['my ex says he will post intimate pics of me unless i pay', 'sexual'],
  ['I sell saucy photos on a subscription site, what can I claim for tax', 'sexual'],
  ["vr headset that's good for watching dirty videos", 'sexual'],
  ['booking policy for my boudoir photography clients', 'sexual'],
  ['im an independent companion, help me tidy my profile', 'sexual'],
  ['make the story X-rated', 'sexual'],
  ['what kind of adult toys are good for a beginner couple', 'sexual'],
  ['recommend a discreet sex toy', 'sexual'],
  ['how to make sex last longer', 'sexual'],
  ['send nudes', 'sexual'],
  ["I'm a cam model, what ring light gets the best tips", 'sexual'],
  ['starting camming next month, which webcam do I need', 'sexual'],
  ['where can i stream adult movies for free', 'sexual'],
  ['xxx videos download no sign up', 'sexual'],
  ['free cam sites without registration', 'sexual'],
  ['which hookup app is best in a big city', 'sexual'],
  ['quietest vibrator for a flat with thin walls', 'sexual'],
  ['a comfortable strap-on harness for a first timer', 'sexual'],
  ['how do I clean a butt plug', 'sexual'],
  ['how do I find a sugar daddy online', 'sexual'],
  ['casual encounters site that is not all bots', 'sexual'],
  ['starting a spicy subscription page, which ring light', 'sexual'],
  ['I sell explicit clips on a subscription site, how do I do my taxes', 'sexual'],
  ['latex outfit for the bedroom size xl', 'sexual'],
  ['I sell handmade leather harnesses, help me write product descriptions', 'sexual'],
  ['I make 18+ content online as a side income, help me with a tax spreadsheet', 'sexual'],
  ['how do creators stay anonymous on those 18+ sites', 'sexual'],
  ["I dance at a gentlemen's club, help me budget for a flat deposit", 'sexual'],
  ['tax return help, I work as an exotic dancer', 'sexual'],
  ["I'm a professional dominatrix, write a classy bio for my booking page", 'sexual'],
  ['I run a subscription page with grown-up photos, which expenses can I claim', 'sexual'],
  ['booking and consent form for my clients, I work as a professional domme', 'sexual'],
  ['I make spicy content on a fan subscription site, is there accounting software for that', 'sexual'],
  ['I post on a subscription site for grown adults, which props count as expenses', 'sexual'],
  ["I dance at a men's club at weekends, help me budget the tips", 'sexual'],
  ['folders so the private photo work I make for paying subscribers stays apart from my other files', 'sexual'],
  ['we are opening up our marriage, help us write ground rules', 'sexual'],
  // mental_health_crisis
  ["I'm having a panic attack right now", 'mental_health_crisis'],
  ["my sister says she can't go on and won't pick up", 'mental_health_crisis'],
  ['dry shampoo and wipes, dont have the energy to wash anymore', 'mental_health_crisis'],
  ['paper plates and dry shampoo, cant manage the basics anymore', 'mental_health_crisis'],
  ['my depression is getting worse every day', 'mental_health_crisis'],
  ['I think my sister has anorexia', 'mental_health_crisis'],
  ["I can't take it anymore, I feel completely hopeless", 'mental_health_crisis'],
  ["honestly I just can't cope with anything since the divorce", 'mental_health_crisis'],
  ['going through a nervous breakdown at work', 'mental_health_crisis'],
  // addiction
  ['I think I am addicted to gambling', 'addiction'],
  ['meeting finder app for people in recovery', 'addiction'],
  ['my friend overdosed on fentanyl', 'addiction'],
  ['how long do alcohol withdrawal symptoms last', 'addiction'],
  ['he has been popping uppers to get through night shifts', 'addiction'],
  ['I relapsed after two years sober', 'addiction'],
  ['my dad is an alcoholic', 'addiction'],
  // tragedy
  ["grandad went in october and I'm the executor, is there software for that", 'tragedy'],
  ['my mom passed away yesterday', 'tragedy'],
  ['the bombing in the city centre last night', 'tragedy'],
  ['warmest sleeping bag for living rough in winter', 'tragedy'],
  ['been sleeping in my car since the split, need a warm blanket', 'tragedy'],
  ['what to say at my grandfather’s funeral', 'tragedy'],
  ['our dog died this morning and I am heartbroken', 'tragedy'],
  ['coping with grief after losing a child', 'tragedy'],
  ['we lost the baby at 20 weeks', 'tragedy'],
  ['I lost my baby last month', 'tragedy'],
  ["I lost my son's father last spring and the kids keep asking", 'tragedy'],
  ['my brother drowned on holiday and I cannot stop thinking about it', 'tragedy'],
  ['news about the school shooting in Texas', 'tragedy'],
  ['how many people were killed in the earthquake', 'tragedy'],
  ['donate to hurricane victims', 'tragedy'],
  ['she was killed in a car crash', 'tragedy'],
  ['the terror attack in the city center', 'tragedy'],
  ['how to cope with losing my husband', 'tragedy'],
  ['we got evicted and are homeless now', 'tragedy'],
  ['we need a tiny urn, our little one only lived a few days', 'tragedy'],
  ['keepsake urns for sharing ashes between siblings', 'tragedy'],
  // medical
  ['smartwatch with ecg for afib', 'medical'],
  ['heating pad that switches itself off, for sciatica flares at night', 'medical'],
  ["my mum has lupus and gets tired by lunchtime, a lighter vacuum?", 'medical'],
  ["meal ideas for a flare of crohn's", 'medical'],
  ['i have coeliac and my flatmates bake constantly, a note for them and maybe a separate toaster', 'medical'],
  ["shared calendar for lifts to mum's radiation appts", 'medical'],
  ['my wife starts radiation next week, what should we pack', 'medical'],
  ['cooling cap to save my hair during infusions, rental price?', 'medical'],
  ['do those cold cap things work', 'medical'],
  ["spreadsheet for my partner's sugar readings, he's just gone onto a pump", 'medical'],
  ['a glucose monitor for my dad that sends readings to my phone', 'medical'],
  ['my son keeps throwing up the milk after every feed', 'medical'],
  ['severe headache and blurry vision since this morning', 'medical'],
  ['pacemaker fitted last week, ok to use an electric toothbrush?', 'medical'],
  ['my son had two seizures last night', 'medical'],
  ['I have chest pain and shortness of breath', 'medical'],
  ['I think I am having a heart attack', 'medical'],
  ['my father was diagnosed with cancer', 'medical'],
  ['what is the max dose of ibuprofen per day', 'medical'],
  ['can I take tylenol with my blood pressure medication', 'medical'],
  ['bleeding while pregnant at 10 weeks', 'medical'],
  ['I had a miscarriage last month', 'medical'],
  ['I think I broke my ankle playing football', 'medical'],
  ['my toddler swallowed a battery', 'medical'],
  ['she fainted and is unconscious', 'medical'],
  ['my baby has a high fever', 'medical'],
  ['first seizure at age 30', 'medical'],
  ['side effects of my medication', 'medical'],
  ['what are early symptoms of diabetes', 'medical'],
  ["I think I'm pregnant and I'm bleeding", 'medical'],
  ['chest tightness and my left arm hurts', 'medical'],
  ['viagra online uk legit site??', 'medical'],
  ['is generic sildenafil as good as the brand', 'medical'],
  ['my husband has erection problems, what helps', 'medical'],
  ["i'm hopeless, nothing is ever going to get better", 'mental_health_crisis'],
  ['I feel hopeless at times and at night it gets worse', 'mental_health_crisis'],
  ["i'm hopeless at this point, what's the use", 'mental_health_crisis'],
  ['where can i get ozempic without a prescription', 'medical'],
  ['is the morning after pill safe to take twice in a month', 'medical'],
  ['plan b pill near me open now', 'medical'],
  ['valium online no prescription', 'addiction'],
];

const BENIGN: string[] = [
  // Words that only block in a phrase about explicit content.
  'an adult bike for commuting',
  'two adult movie tickets and one child ticket',
  'adult coloring book for stress relief',
  'nude lipstick that lasts all day',
  'replace the xxx placeholder in my invoice template',
  'dash cam for my car with parking mode',
  'adult education classes for spanish near me',
  'a coffee urn for 50 people at a conference',
  'best webcam for zoom meetings with clients',
  'a camera model with good low-light video',
  // Word-boundary traps for the erectile dysfunction drug names.
  'find a specialist plumber near me',
  'a social media scheduling tool for my agency',
  // "plan b" alone is a backup plan.
  "what's our plan b if it rains on the wedding day",
  'melatonin gummies for jet lag',
  // Hopeless at a skill, not in despair.
  "router rental with setup please, I'm hopeless with that stuff",
  "i'm hopeless at maths, which calculator app explains the steps",
  // "Like I'm 5" asks for a simple answer; it says nothing about the user's age.
  "offside rule in football, explain it like i'm 5",
  "explain compound interest to me like I'm 12",
  'explain it as if I am 10.',
  // Sex toys only by name: a strap-on cleat, a concrete vibrator, pegging out the washing.
  'strap-on ice cleats for my winter boots',
  'hire a concrete vibrator for the weekend',
  'pegging out the washing before the rain',
  // Spicy food; a chance meeting.
  'spicy subscription box of hot sauces for my dad',
  'a casual encounter with my old teacher at the market, small world',
  // Latex as a material; explicit as "clear"; uppers of a shoe.
  'a latex mattress topper for a bad back, medium firm',
  'latex-free gloves for cleaning, my hands react',
  'explicit instructions for assembling this desk please',
  'resoling boots when the uppers are still fine',
  'leather uppers and a stitched sole for school shoes',
  // "X rated" as a film rating, not a device's water rating.
  'an IPX7 rated speaker for the shower',
  // A police escort, escorting children, the old car.
  'police escort for the parade float, need a banner',
  'escorting the kids to school in the rain, need a big umbrella',
  'wiper blades for two old escorts mk1',
  // An intimacy coordinator is a job on a film set; intimacy alone is not a trade.
  'we hired a paid intimacy coordinator for the film shoot, need a contract template',
  'ideas for an intimate anniversary dinner at home, candles and a playlist',
  'an intimate wedding venue for 30 guests, can you find photos of the garden',
  // Pole fitness as a class, a tent pole, a topless car.
  'grip aid for pole fitness class, my hands slip on the pole',
  'replacement tent pole for a 2 person dome tent',
  'roof rack for a topless jeep, what fits',
  'I work as a decorator and need a paint stripper that is safe indoors',
  'best wire stripper for a job as an electrician apprentice',
  // A device that "died" is "it".
  'the day it died I lost all my photos, which phone has the best backup',
  // Goods seized, not a medical seizure.
  'is buying fake trainers illegal, there was a story about customs seizures',
  // Sleeping in a car on a trip, or after a tent broke.
  'our tent pole snapped and we ended up sleeping in the car, need a tent for 4',
  'sleeping in my car at festivals this summer, need window nets',
  // Crows.
  'is it true a group of crows is called a murder',
  // Dirt, and a bedroom chair.
  'dirty dishes pile up every night, which dishwasher',
  'a boudoir chair for the bedroom corner',
  // "18+" as an age limit, "a fib" as a small lie, the grey wolf's Latin name.
  'board games for an 18+ only night with friends',
  'told my sister a fib about her haircut, now I need a nice gift to make up',
  'a plush grey wolf for my nephew, the label says canis lupus',
  // A gentleman's watch, a dance class.
  "a gentleman's watch for my dad's 70th, silver",
  'a dance class for beginners near me, salsa or swing',
  // Too tired to cook, or energy to spare.
  "night shifts all month and I don't have the energy to cook, quick meals?",
  'a springer with energy to burn, which ball launcher',
  // Radiation in physics and weather.
  'a router that does not give off much radiation',
  'why does radiation fog form on clear nights',
  // Tea and oil infusions, an espresso machine's pre-infusion.
  'a glass teapot for herbal infusions, about a litre',
  "what's the pre-infusion setting on my espresso machine for",
  // A phone in recovery mode, recovery after a long run, spicy food.
  'my phone is stuck in recovery mode, do I need a new one',
  'foam roller for recovery after long runs',
  'spicy hot sauce gift set for my brother',
  // A men's club as a social club, a site for adult learners.
  "my dad's men's club has a darts night, what could I get him",
  'a coding course site for adults who never learned maths',
  // Videos for a channel's subscribers, a private photo album of the family.
  'a better microphone for the videos I make for my subscribers',
  'a private photo album app for our holiday pictures',
  // What an executor does, asked in general; being named one in a living parent's will; a task executor in code.
  'what does the executor of a will actually have to do',
  "mum has named me executor in her will, what should I keep for her",
  'my thread pool executor keeps rejecting tasks under load',
  // Being open with a partner, an open relationship with suppliers or a doctor, a relationship between teams.
  'how do I open up to my partner about money worries',
  'we keep an open relationship with our suppliers, how do I write that into a contract',
  'I want an open relationship with a doctor who listens, any advice on finding one',
  'how can we open up the relationship between sales and ops',
  // A gluten-free diet without the condition, a French word.
  'gluten free bread that does not fall apart, for packed lunches',
  "c'est dommage, how would I say that in English",
  // Grown-up children, the basics of a skill, sugar in a recipe.
  'photo book of the kids now they are all grown up, photos from every year',
  "I can't manage the basics of pivot tables, is there a course for beginners",
  'how much sugar in a batch of flapjacks, reading the recipe wrong',
  // A leather harness for an animal.
  'a leather harness for my dog, she slips out of collars',
  'leather harness for a small pony, brown',
  // Machines that "can't cope", people who "can't cope with downloading apps", a laptop "throwing up" pop-ups.
  'our old blender can\'t cope with ice any more, which one crushes it',
  'half the club can\'t cope with installing apps, need video calls in a browser',
  'the dashboard keeps throwing up the low pressure warning, I want my own tyre gauge',
  'my laptop keeps throwing up pop-ups, is there antivirus that is not a scam',
  'my free photo editor can\'t cope with raw files, want something more serious',
  "we're 120 people now and it can't go on like this, need proper payroll software",
  // "Bombing" an interview or a round of one, or down a trail on a bike.
  'keep bombing the whiteboard round of interviews, need algorithm practice',
  'he spends weekends bombing down the trails, wants a full-face helmet',
  // Baby weight is lost after a birth or a diet, not in a death.
  "finally lost the baby weight, treating myself to new jeans",
  'losing my baby fat slowly, need running leggings',
  // An object that belonged to a family member ("my son's teddy"); music "drowned out" by a crowd.
  "we lost my son's dinosaur teddy at the airport, need another one for bedtime",
  'lost my dad’s watch at the gym, want a cheap replacement',
  'my little speaker gets drowned out at a garden party, need something louder',
  // The tricky figurative / commercial cases from the brief.
  'best project management tool for a small team',
  'how to shoot a video for a product launch',
  'this is the killer app for note taking',
  'dead simple setup, works out of the box',
  'this bug is killing me',
  'execute a script on startup',
  'the headache of managing spreadsheets',
  'drug store coupon for this weekend',
  'hot deals on laptops',
  'running shoes for my kids',
  'best laptop for a teenager',
  'pregnancy pillow recommendations',
  'a shot of espresso in the morning',
  'fire up the server and check the logs',
  'crash course in TypeScript',
  'the app keeps crashing on launch',
  // Word-boundary traps.
  'I need a skill assessment platform',
  'find a therapist scheduling tool for my practice',
  'troubleshooting a flaky network printer',
  'the Sussex weather next week',
  'canola is made from rapeseed oil',
  'a unisex hoodie in navy',
  // Everyday commerce and dev talk that brushes against the word lists.
  "kids' toys for a rainy day",
  'a birthday gift for my 12 year old son',
  'my son passed his driving test, what car should he get',
  'my laptop died yesterday, need a replacement',
  'I have a minor bug in my checkout page',
  'the child process was killed by the OOM killer',
  'how do I kill a process on port 3000',
  'cache poisoning and CDN purging explained',
  'bleeding-edge features in the new framework',
  'the server is unresponsive after the deploy',
  'unconscious bias training for managers',
  'side effects in React useEffect',
  'redirect the naked domain to www',
  'nude lipstick shades for summer',
  'wire strippers for electrical work',
  'coffin nails design ideas',
  'car crash test ratings for family SUVs',
  'property and casualty insurance quotes',
  'disaster recovery plan for our database',
  'a 12-step guide to Kubernetes',
  'I am 30 and want to learn to code',
  "I'm 16 hours into this migration",
  'this config is giving me grief',
  'beats headphones for kids',
  'hot sauce gift set',
  'passing out flyers for the grand opening',
  'end-of-life support for Windows 10',
  'your daily dose of tech news',
  'stock prices shoot up after earnings',
  'how to withdraw money from a savings account',
  'a bipolar junction transistor for my circuit',
  'murder mystery party kit',
  'kernel panic on boot',
  'DDoS attack protection for small sites',
  'tombstones in Cassandra',
  'AI hallucinations in chatbots',
  'suicide squad poster',
  'I am sick of slow builds',
  'explain the Great Depression',
  'LRU cache evicted entries',
  'best vape for beginners',
  'the drug interactions API docs',
];

describe('classifySensitivity', () => {
  test('has a broad set of examples', () => {
    expect(SENSITIVE.length).toBeGreaterThanOrEqual(40);
    expect(BENIGN.length).toBeGreaterThanOrEqual(40);
    const covered = new Set(SENSITIVE.map(([, c]) => c));
    expect(covered.size).toBe(8);
  });

  for (const [text, category] of SENSITIVE) {
    test(`sensitive (${category}): ${text}`, () => {
      const result = classifySensitivity([text]);
      expect(result.sensitive).toBe(true);
      expect(result.category).toBe(category);
      expect(typeof result.matched).toBe('string');
    });
  }

  for (const text of BENIGN) {
    test(`benign: ${text}`, () => {
      expect(classifySensitivity([text])).toEqual({ sensitive: false, category: null, matched: null });
    });
  }

  test('is case-insensitive and tolerates typographic apostrophes and hyphens', () => {
    expect(classifySensitivity(['I WANT TO KILL MYSELF']).category).toBe('self_harm');
    expect(classifySensitivity(['I’m 13, is this ok?']).category).toBe('minors');
    expect(classifySensitivity(['heart-attack warning signs']).category).toBe('medical');
  });

  test('checks every message and reports the highest-priority category across them', () => {
    expect(classifySensitivity([]).sensitive).toBe(false);
    expect(classifySensitivity(['', 'best running shoes']).sensitive).toBe(false);
    const result = classifySensitivity(['any tips for my chest pain?', 'honestly I want to die']);
    expect(result).toEqual({ sensitive: true, category: 'self_harm', matched: 'want to die' });
  });

  test('does not join a minor and a context across messages or sentences', () => {
    expect(classifySensitivity(['my kids are vaping']).category).toBe('minors');
    expect(classifySensitivity(['running shoes for my kids', 'are vaping kits any good?']).sensitive).toBe(false);
    expect(classifySensitivity(['Running shoes for my kids. Are vaping kits any good?']).sensitive).toBe(false);
  });

  test('classifies ~2 KB of text well under a millisecond on average', () => {
    const benign = ('We are comparing project management tools for a team of twelve. We need Gantt charts, time tracking, ' +
      'Slack integration and a decent mobile app; the last one kept crashing. Budget is around fifty dollars a month. ').repeat(12).slice(0, 2048);
    const sensitive = benign.slice(0, 1900) + ' Also my dad passed away last week.';
    const texts = Array.from({ length: 1000 }, (_, i) => (i % 10 === 0 ? sensitive : benign) + ` #${i}`);
    for (let i = 0; i < 200; i++) classifySensitivity([texts[i]]); // warm up the regex JIT
    const start = performance.now();
    let hits = 0;
    for (const text of texts) if (classifySensitivity([text]).sensitive) hits++;
    const avgMs = (performance.now() - start) / texts.length;
    console.log(`classifySensitivity: ${(avgMs * 1000).toFixed(1)} µs average per ~2 KB text`);
    expect(hits).toBe(100);
    expect(avgMs).toBeLessThan(0.5);
  });
});
