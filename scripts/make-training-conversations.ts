/**
 * `bun scripts/make-training-conversations.ts`: writes generated TRAINING conversations for the shopping-intent
 * and safety classifiers to test/fixtures/promotions/conversations/train/d4-{none,shopping,sensitive}.jsonl, and
 * converts the hand-written training conversations of test/fixtures/promotions/sources/d5-train.txt to
 * train/d5-{none,shopping,sensitive}.jsonl, and those of sources/d8-train.txt to train/d8-*.jsonl and (every 4th
 * of each block) dev/d8-*.jsonl. Nothing else is written: test and the held-out splits never.
 *
 * Author d4 is this generator: many templates per kind, each with slots filled from vocabulary tables
 * (people, places, products, symptoms, code, dates, ...), then surface variation (lower case, dropped
 * punctuation, fillers, typos, run-on messages) and multi-turn framing (an ordinary opening turn before the
 * need, or, for sensitive conversations, the crisis in an earlier turn and an ordinary or shopping-like
 * follow-up last). What it teaches:
 * - sensitive conversations in plain words, without the lexicon's words (emergencies, bereavement, self-harm
 *   and crisis, abuse and coercion, medical fear, debt and eviction despair, addiction), many of them phrased
 *   like shopping ("what should I buy for my mother's funeral");
 * - conversations without shopping intent that share words with products (coding, math, history, trivia,
 *   writing help, translation, role-play, how to use or fix what one already has);
 * - first-person needs phrased indirectly ("my knees hurt after runs, what would help?").
 * Deterministic (seeded): two runs write byte-identical files.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { classifySensitivity } from '../src/ads/sensitive';
import { splitmix32 as seeded } from './dev-lib';

const ROOT = join(import.meta.dir, '..');
const OUT = join(ROOT, 'test', 'fixtures', 'promotions', 'conversations', 'train');
const HAND = join(ROOT, 'test', 'fixtures', 'promotions', 'sources', 'd5-train.txt');
const HAND_D8 = join(ROOT, 'test', 'fixtures', 'promotions', 'sources', 'd8-train.txt');

type Kind = 'none' | 'shopping' | 'sensitive';
type Message = { role: 'user' | 'assistant'; content: string };
type Row = { id: string; kind: Kind; topic: string; messages: Message[]; lexicon_free?: boolean };

// ---------------------------------------------------------------- randomness
const rand = seeded(0xd4d4a11);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
const chance = (p: number) => rand() < p;

function hex8(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return (h >>> 0).toString(16).padStart(8, '0');
}

// ---------------------------------------------------------------- templates
/**
 * A template is text with `{slot}` (a random entry of V[slot], itself expanded) and `[a|b|c]` (one of the
 * alternatives, which may be empty: `[really |]`). Nested brackets are allowed.
 */
const V: Record<string, readonly string[]> = {
  // people
  rel: ['mum', 'mom', 'dad', 'father', 'mother', 'grandma', 'grandpa', 'husband', 'wife', 'partner', 'brother', 'sister', 'uncle', 'aunt', 'best mate', 'flatmate', 'roommate', 'neighbour', 'coworker', 'boyfriend', 'girlfriend', 'nan', 'stepdad', 'cousin', 'father-in-law', 'oldest friend', 'son', 'daughter'],
  elder: ['mum', 'dad', 'grandma', 'grandpa', 'nan', 'granddad', 'mother', 'father', 'great aunt', 'uncle', 'mother-in-law', 'old neighbour'],
  name: ['Tom', 'Priya', 'Marco', 'Aisha', 'Jonas', 'Mei', 'Sam', 'Lucía', 'Oskar', 'Fatima', 'Dev', 'Hannah', 'Kofi', 'Yuki', 'Liam', 'Sofia', 'Ravi', 'Elena', 'Ben', 'Nadia'],
  place: ['kitchen', 'bathroom', 'garden', 'car park', 'supermarket', 'gym', 'office', 'bus stop', 'living room', 'stairs', 'driveway', 'pool', 'park', 'hallway', 'shower', 'train platform'],
  when: ['yesterday', 'last night', 'on tuesday', 'this morning', 'two days ago', 'on the weekend', 'last week', 'an hour ago', 'on friday', 'a few days ago'],
  time: ['tonight', 'right now', 'this minute', 'as we speak', 'at the moment', 'since an hour'],
  // emergencies
  emerg: [
    "isn't breathing", 'is not breathing properly', "won't wake up", 'is not responding when I shake him', 'went grey and collapsed', 'is shaking all over and foaming at the mouth',
    'fell and hit his head and is throwing up', 'has lips that are turning blue', 'is choking and can’t cough', "can't feel her left side and her face is drooping", 'is clutching his chest and sweating',
    'swallowed a bunch of pills from the cabinet', 'is bleeding a lot from a cut on her leg and it won’t stop', 'fell off a ladder and can’t move his legs', 'is burning hot and really confused',
    'got stung and her throat is closing up', 'slumped over at the table and is gurgling', 'is lying at the bottom of the stairs and not moving', 'has gone floppy and pale',
    'is breathing really weird and slow', 'passed out in the heat and won’t come round',
  ],
  kidEmerg: ['swallowed a button battery', 'drank something from under the sink', 'fell out of the window', 'is limp and won’t respond', 'went under in the pool for a while', 'got into the bleach', 'has a rash and a fever and is very sleepy', 'ate some of the dishwasher tablets'],
  // bereavement
  loss: ['passed away', 'died', 'passed', "isn't with us anymore", 'is gone', 'left us', 'passed in her sleep', 'lost his fight', 'passed suddenly', 'died in the night'],
  funeralItem: ['a black dress', 'flowers', 'a wreath', 'a headstone', 'an urn', 'a casket', 'a suit', 'a guest book', 'something to wear', 'a memorial bench plaque', 'order of service cards', 'a frame for the photo at the service', 'catering for the wake'],
  grief: ['I keep setting the table for two', 'the house is so quiet', 'I still reach for the phone to call', "I can't face sorting through the wardrobe", 'everyone else has moved on but me', "I haven't stopped crying since", "I don't know how to tell the kids", 'I found the last voicemail and played it twenty times', 'I keep smelling the perfume on the pillow', "I can't go into the bedroom"],
  // self-harm / crisis (lexicon-free phrasing)
  despair: [
    "I've been giving my things away to friends", "I wrote letters to everyone I care about and I feel calm now", "I don't see the point of next week", "everyone would be lighter without me around",
    "I've been saving up my tablets", "I looked up how high the bridge near my flat is", "I don't plan to be here after the weekend", "I keep thinking about not waking up", "I said goodbye to my cat properly today",
    'I sorted out who gets what and cleaned the flat so nobody has to', 'I feel like a burden on every single person', "I can't do this anymore and I have a plan", 'tonight feels like the end of the road',
    "I've been standing on the balcony a lot", "there's no way out of this except one", "I made sure the insurance pays out either way", "I've been scratching my arms until they bleed again",
    'nothing is going to get better and I am tired of pretending', 'I keep picturing my own funeral and it feels like relief',
  ],
  crisisBuy: ['best rope that can hold a person', 'how many of my sleeping tablets would be too many', 'what is the strongest painkiller I can buy without a prescription, a lot of it', 'a sharp blade that no one will notice', 'a lock for the garage so I can be alone in there with the car running', 'strong cord that won’t snap under a lot of weight', 'a gun, fast, no waiting period', 'enough charcoal for a closed room'],
  // abuse / coercion
  abuse: [
    'my partner takes my phone and checks every message', 'he locks me in when he leaves for work', 'she controls all the money and gives me an allowance', 'he took my passport and says I can’t leave',
    'my husband tracks my car and shows up wherever I am', 'he said if I leave he’ll take the kids and I’ll never see them', 'she throws things at me when she’s angry', 'I have bruises I hide with long sleeves',
    'he won’t let me see my family anymore', 'my boyfriend pushed me down the stairs', 'he smashed my phone so I can’t call anyone', 'my carer takes my pension and shouts at me',
    'my dad hits my mum when he drinks', 'he choked me during an argument and now says it was nothing', 'she reads my emails and changes my passwords', 'I’m scared to go home tonight because of him',
    'my ex keeps turning up outside my work and I get messages from new numbers every day', 'he made me sign the loan papers and now I owe everything', 'my son takes my bank card and I’m frightened of him',
  ],
  hideBuy: ['a hidden camera so I can prove it', 'a phone he won’t know about', 'a lock for my bedroom door from the inside', 'a bag I can pack and hide', 'a cheap car to get away', 'a tracker I can find on my car'],
  // medical fear
  medFear: [
    'the biopsy results come back on friday and I’m terrified', 'I found a lump and the doctor wants more scans', 'they said the shadow on the x-ray needs looking at urgently', 'my baby has stopped moving as much as before',
    'I’ve been coughing blood for a week', 'my vision went blurry on one side and came back', 'the consultant used the word palliative', 'I’m bleeding at 10 weeks and scared',
    'I’ve lost a lot of weight without trying and I sweat at night', 'my dad’s memory is going so fast he didn’t know me today', 'the scan showed something on my liver', 'they found something on my smear test',
    'my heart keeps racing and skipping and I nearly fainted twice', 'they want to operate on my spine next week and I’m scared I won’t walk', 'my test came back positive and I don’t know who to tell',
  ],
  // debt / eviction despair
  debt: [
    'the bailiffs are coming on monday', 'we got the eviction notice and have nowhere to go', 'I owe more than I earn in a year and the letters keep coming', 'they’re cutting off the electricity tomorrow and it’s winter',
    "I can't feed the kids until payday and that's nine days away", 'the bank is taking the house', 'I lost my job and the rent is three months behind', 'the loan sharks know where I live',
    "I've been skipping meals so the kids can eat", 'the car was repossessed and I can’t get to work now', 'my landlord changed the locks while I was out', 'I maxed out every card to pay the other cards',
    "I'm sleeping in my car since the weekend", 'I have £4 until the end of the month',
  ],
  debtBuy: ['what’s the cheapest tent I could live in', 'where can I sell my wedding ring today', 'the cheapest sleeping bag for winter outside', 'a payday loan that doesn’t check anything', 'food for five people for a week with 10 pounds'],
  // addiction
  addict: [
    "I was clean for two years and I used again last night", "I can't stop at one and I drink every morning now", 'I bet the rent money again and lost it all', 'I hide bottles around the house so my wife won’t see',
    'my hands shake until I have the first drink', 'I spent our savings on online slots', 'I keep buying more pills from a guy at work', 'I crave it every hour of the day',
    "my son is using again and I found foil in his room", 'I woke up in a place I didn’t recognise again', 'I promised my kids I’d stop and I didn’t', 'I’ve been chasing losses for months',
    'I take twice the dose I’m prescribed and run out early', 'I need a drink to get through a shower',
  ],
  addictBuy: ['a betting app that lets me deposit more than my limit', 'which cheap vodka gets you there fastest', 'somewhere that sells the tablets without asking', 'a flask that fits in a jacket so no one at work knows'],
  // tragedy
  tragedy: [
    'our house burned down last night and we got out with nothing', 'the flood took everything on the ground floor and the kids are scared', 'there was a shooting at my son’s school today', 'my town was hit by the earthquake and we’re sleeping outside',
    'a car went into the crowd at the market and I saw it', 'my brother was in the crash on the motorway and they won’t tell us anything', 'the wildfire is getting close and we have to leave', 'the building next to ours collapsed this morning',
    'my friend drowned at the lake on sunday', 'our village was shelled and my parents are still there',
  ],
  tragedyBuy: ['where can I get blankets and a tent tonight', 'what do I need to buy now that we have nothing', 'cheapest clothes for three kids, we lost everything', 'a phone so I can reach my family'],
  // products for shopping-shaped sensitive follow-ups
  anyBuy: ['what should I buy', 'which one should I get', 'any good deals', 'what’s the cheapest option', 'can you recommend something', 'where do I order one', 'what brand is best', 'is amazon faster'],

  // money despair phrased as selling, pawning or stretching food (not the lexicon's words)
  sellFast: ['my phone', 'the kids’ games console', 'my wedding ring', 'my mum’s necklace', 'the telly', 'my bike', 'my work tools', 'the pram', 'my guitar', 'my coat'],
  noFood: ['there’s nothing for tea tonight', 'the kids had cereal for dinner again', 'we’ve got bread and nothing else till payday', 'I haven’t eaten since yesterday so the kids can', 'the cupboards are empty and payday is a week off', 'the meter ran out and we’re sitting in the dark'],
  // goodbye planning phrased as errands
  goodbyeErrand: ['sort out who gets my things', 'write letters for my family to read after', 'find a new home for my cat before the weekend', 'put my bank details somewhere my brother will find them', 'cancel everything in my name', 'pay off the little debts so nobody inherits them', 'leave the flat spotless', 'give my books and records away', 'write down my passwords for my mum', 'choose the clothes I want to be found in'],
  goodbyeWhy: ['since I won’t be around much longer', 'for after I’m gone', 'before sunday, it has to be done by then', 'so nobody has to deal with it later', 'while I still can', 'because I’m not going to need any of it', 'just in case, they’ll need it after'],
  // method-seeking phrased as shopping (objects with a giveaway context, never instructions)
  methodBuy: ['a long hose that fits a car’s exhaust', 'tape to seal a room airtight', 'a big bottle of sleeping tablets', 'a strong hook that takes a person’s weight', 'a hotel room on the very top floor with a balcony', 'as many painkillers as one shop will sell', 'a helium tank and a bag', 'charcoal for an indoor barbecue with the windows shut', 'the sharpest single blades', 'a gun without a waiting period'],
  methodWhy: ['don’t ask why', 'it’s just for me', 'I won’t need it for long', 'nobody needs to know', 'I’d rather not say what for', 'it’s for tonight', 'I’ve made up my mind'],
  // gifts and errands around a death
  deadOne: ['baby', 'little girl', 'son', 'daughter', 'husband', 'wife', 'mum', 'dad', 'brother', 'twin', 'teenager', 'newborn'],
  mourner: ['my colleague', 'my best friend', 'my neighbour', 'my boss', 'my sister', 'a friend from uni', 'the couple next door', 'my cousin', 'our nanny', 'my son’s teacher'],
};

function expand(template: string, depth = 0): string {
  if (depth > 6) return template;
  // innermost [..] first, then slots
  let t = template;
  for (;;) {
    const m = /\[([^[\]]*)\]/.exec(t);
    if (!m) break;
    t = t.slice(0, m.index) + pick(m[1].split('|')) + t.slice(m.index + m[0].length);
  }
  return t.replace(/\{(\w+)\}/g, (_, k: string) => {
    const vs = V[k];
    if (!vs) throw new Error(`unknown slot ${k}`);
    return expand(pick(vs), depth + 1);
  });
}

// ---------------------------------------------------------------- surface variation
const FILLERS = ['', '', '', 'hi, ', 'ok so ', 'um ', 'quick question: ', 'sorry to bother you, ', 'hey. ', 'hello, ', 'please help. ', 'so ', 'idk '];
const TYPO_KEYS = 'qwertyuiopasdfghjklzxcvbnm';

function typo(text: string): string {
  const words = text.split(' ');
  const i = Math.floor(rand() * words.length);
  const w = words[i];
  if (w.length < 4) return text;
  const j = 1 + Math.floor(rand() * (w.length - 2));
  const op = rand();
  words[i] = op < 0.33 ? w.slice(0, j) + w.slice(j + 1) : op < 0.66 ? w.slice(0, j) + w[j + 1] + w[j] + w.slice(j + 2) : w.slice(0, j) + pick([...TYPO_KEYS]) + w.slice(j);
  return words.join(' ');
}

function vary(text: string, casual = 0.5): string {
  let t = text.replace(/\s+/g, ' ').trim();
  t = t.charAt(0).toUpperCase() + t.slice(1);
  if (chance(0.25)) t = pick(FILLERS) + t.charAt(0).toLowerCase() + t.slice(1);
  if (chance(casual)) t = t.toLowerCase();
  if (chance(casual * 0.5)) t = t.replace(/[.,!?’']/g, (c) => (c === '’' || c === "'" ? (chance(0.5) ? '' : "'") : chance(0.6) ? '' : c));
  if (chance(0.2)) t = typo(t);
  return t.replace(/\s+/g, ' ').trim();
}

// ---------------------------------------------------------------- sensitive
const SENSITIVE: Record<string, readonly string[]> = {
  medical_emergency: [
    'my {rel} {emerg}, what do I do', '{rel} just {emerg} in the {place}', 'help my {rel} {emerg} {time}', 'we are at the {place} and my {rel} {emerg}, the ambulance is taking forever',
    'my {rel} {emerg}. do I move them or wait', 'someone at the {place} {emerg} and I’m the only one here', 'my toddler {kidEmerg}', 'the baby {kidEmerg}, what do I do first',
    'my {rel} {emerg}, what should I buy from the pharmacy to help', 'my {rel} {emerg}, is there a device I can buy right now', 'my {rel} {emerg} – which first aid kit do I need, quick',
    'was out running with my {rel} and they just {emerg}', 'my {rel} {emerg} and I don’t know CPR',
  ],
  bereavement: [
    'what’s a good gift for {mourner}, their {deadOne} died', 'gift ideas for {mourner} whose {deadOne} just died', 'what do you send {mourner} when their {deadOne} {loss}', 'something thoughtful for {mourner}, they lost their {deadOne} {when}',
    'what should I buy {mourner}? their {deadOne} {loss} {when}', '{mourner}’s {deadOne} {loss}, flowers or food or something else',
    'my {rel} {loss} {when} and I have to organise everything', 'what should I buy for my {elder}’s funeral', 'where can I get {funeralItem} by thursday, my {rel} {loss}', 'my {rel} {loss} {when}. {grief}',
    '{grief}. it’s been a month since my {rel} {loss}', 'how do I write the eulogy, my {elder} {loss} {when}', 'we lost the baby at 20 weeks and I have to pick {funeralItem}', 'our dog of 14 years {loss} {when} and {grief}',
    'I need {funeralItem} for my {elder}, the service is on monday', 'recommend {funeralItem} for a funeral, my {rel} {loss} suddenly', 'my {rel} {loss} {when} and I don’t know what to do with their phone and laptop',
    'what do you wear to your own {elder}’s funeral', 'best {funeralItem}? my {elder} {loss}', 'first christmas since my {rel} {loss}, {grief}',
  ],
  self_harm: [
    'how do I {goodbyeErrand} {goodbyeWhy}', 'I want to {goodbyeErrand} {goodbyeWhy}, where do I start', 'help me {goodbyeErrand}, {goodbyeWhy}', 'I’ve started to {goodbyeErrand} {goodbyeWhy}',
    'where can I get {methodBuy}, {methodWhy}', 'best place to buy {methodBuy}? {methodWhy}', 'I need {methodBuy}. {methodWhy}', 'recommend {methodBuy}, {methodWhy}',
    '{despair}', '{despair}. {crisisBuy}?', '{crisisBuy}', 'where can I find {crisisBuy}', 'what do you suggest: {crisisBuy}', '{despair}, {anyBuy}', 'honestly {despair} and i just want it to stop',
    'I need {crisisBuy}, don’t ask why', 'for my own reasons I need {crisisBuy}', 'be honest, {crisisBuy}?', '{despair}. nobody knows.',
  ],
  mental_health_crisis: [
    "I haven't slept in four days and the voices are getting louder", "I can't stop shaking and I feel like I'm dying, it won't stop", 'everything feels unreal and I think I’m losing my mind {time}',
    "I've locked myself in the bathroom because I can't breathe and my chest hurts from panic", "I haven't left my room in three weeks and I stopped eating", 'I’m hearing people talk about me through the walls and I’m scared',
    "my {rel} says they can't go on and isn't answering the phone now", 'I feel completely numb, like I’m watching myself from outside', 'I keep crying at work and I can’t function, I think I’m breaking',
    'I’m in a really dark place and I don’t trust myself tonight', 'my {rel} is talking about not being here anymore, what do I do', '{despair} and I don’t know who to talk to',
    'I had a breakdown at the {place} and can’t get up off the floor', 'my thoughts are racing and I’ve spent all our money in two days, I can’t stop',
  ],
  abuse_violence: [
    '{abuse}', '{abuse}. is that normal?', '{abuse}, I want {hideBuy}', 'which is best, {hideBuy}? {abuse}', 'can you recommend {hideBuy}, {abuse}', '{abuse} and I don’t know who to tell',
    'my friend says {abuse}, how do I help', 'I think my {elder} is being hurt by the carer, there are marks on her arms', '{abuse}. I need {hideBuy} before he gets back',
  ],
  medical_condition: [
    '{medFear}', '{medFear}, what should I do', '{medFear}. I can’t stop googling', 'my {rel} says {medFear}', '{medFear}. is there anything I can buy to help',
    'I’ve been told {medFear} and I’m on my own', 'they told my {rel} {medFear} and I have to be strong for everyone',
  ],
  financial_crisis: [
    'where can I sell {sellFast} today, {noFood}', '{noFood}. how much would a pawn shop give for {sellFast}', 'quickest way to get cash for {sellFast}? {noFood}', '{noFood}, can you recommend somewhere to pawn {sellFast}',
    '{debt}', '{debt}, what do I do', '{debt}. {debtBuy}?', '{debtBuy}, {debt}', '{debt} and I can’t see a way out', '{debt}. I can’t tell my family',
    'we have {debt}', 'honestly {debt} and I’m not coping', '{debt}, {anyBuy}',
  ],
  addiction: [
    '{addict}', '{addict}. how do I stop', '{addict}, {addictBuy}?', '{addict}. where do I find {addictBuy}', '{addict} and nobody knows', 'I think my {rel} has a problem, {addict}',
    '{addict}. I feel so ashamed', 'be honest, {addictBuy}? {addict}',
  ],
  tragedy: ['{tragedy}', '{tragedy}. {tragedyBuy}', '{tragedyBuy}? {tragedy}', '{tragedy} and I can’t stop shaking', '{tragedy}, what do we do now'],
  sexual: [
    'someone I met online is threatening to send my photos to my family unless I pay', 'I woke up at a party and I don’t remember how my clothes came off', 'the condom broke and he won’t tell me if he’s been tested',
    'my manager keeps touching me when nobody is around and said I’ll lose my job if I say anything', 'someone at the {place} followed me and grabbed me between the legs', 'I think my drink was spiked last night and something happened',
    'he posted pictures of me without my consent', 'I said no and he kept going', 'a stranger sent me videos of himself and keeps messaging my child',
  ],
};

/** Ordinary follow-ups for a conversation whose crisis was told earlier: the last turn alone looks harmless or shopping-like. */
const FOLLOWUPS = ['ok, what should I buy then?', 'which one is cheapest?', 'thanks. can you recommend a brand?', 'and where do I order it', 'ok. what else do I need to get?', 'right. any apps for that?', 'fine. just tell me what to get', 'which shop is open now?', 'so what do you recommend', 'ok and what about delivery?', 'thanks, what do people usually buy?'];
const ASSISTANT_SENSITIVE = ['I’m so sorry you’re going through this. Are you safe right now?', 'That sounds really hard. If anyone is in danger, please call your local emergency number.', 'I’m here. Can you tell me a bit more?', 'I’m really sorry. You don’t have to deal with this alone.'];
const OPENERS = ['can you help me with something', 'hi, I have a question', 'I need some advice', 'are you there?', 'can I ask you something personal', 'i dont really know where to start'];

function sensitiveRows(perTopic: number): Row[] {
  const rows: Row[] = [];
  for (const [topic, templates] of Object.entries(SENSITIVE)) {
    const seen = new Set<string>();
    for (let tries = 0; seen.size < perTopic && tries < perTopic * 30; tries++) {
      const text = vary(expand(pick(templates)), 0.55);
      if (seen.has(text)) continue;
      seen.add(text);
      const r = rand();
      let messages: Message[];
      if (r < 0.18) messages = [{ role: 'user', content: text }, { role: 'assistant', content: pick(ASSISTANT_SENSITIVE) }, { role: 'user', content: vary(pick(FOLLOWUPS), 0.5) }];
      else if (r < 0.28) messages = [{ role: 'user', content: vary(pick(OPENERS)) }, { role: 'assistant', content: 'Of course, what’s on your mind?' }, { role: 'user', content: text }];
      else messages = [{ role: 'user', content: text }];
      rows.push(row('sensitive', topic, messages));
    }
  }
  return rows;
}

// ---------------------------------------------------------------- no shopping intent
const N: Record<string, readonly string[]> = {
  lang: ['python', 'javascript', 'typescript', 'rust', 'go', 'java', 'c#', 'sql', 'bash', 'kotlin', 'php', 'ruby'],
  codeThing: ['a regular expression that matches email addresses', 'a linked list', 'a binary search', 'a debounce function', 'a REST endpoint', 'a SQL join', 'a recursive fibonacci', 'a class for a bank account', 'a unit test', 'a dockerfile', 'a cron job', 'a websocket server', 'a csv parser'],
  codeErr: ['TypeError: cannot read properties of undefined (reading \'map\')', 'segmentation fault (core dumped)', 'IndexError: list index out of range', 'ECONNREFUSED 127.0.0.1:5432', 'error TS2345: Argument of type string is not assignable', 'ModuleNotFoundError: No module named requests', 'permission denied (publickey)', 'NullPointerException at Main.java:42', 'merge conflict in package-lock.json'],
  codeConcept: ['main function', 'regular expressions', 'a smart pointer', 'the event loop', 'a race condition', 'dependency injection', 'a hash map', 'big O notation', 'garbage collection', 'a memory leak', 'the observer pattern', 'tail recursion', 'a mutex', 'git rebase', 'a pro tip for vim', 'a classic off-by-one bug', 'track changes in git'],
  mathQ: ['the derivative of x^3 sin x', 'the integral of 1/x', 'what a prime number is', 'the area of a circle with radius 7', 'how to solve 3x + 5 = 20', 'the probability of two sixes in a row', 'what a standard deviation means', 'why 0.999... equals 1', 'the pythagorean theorem', 'a proof that root 2 is irrational', 'how compound interest works on 1000 at 5 percent', 'how many ways to arrange 6 books on a shelf', 'the limit of sin x over x'],
  histQ: ['the fall of the roman empire', 'why world war one started', 'the french revolution', 'the silk road', 'the space race', 'the industrial revolution', 'the cold war', 'the black death', 'the printing press', 'the meiji restoration', 'the partition of india', 'the berlin wall', 'the aztec empire', 'the antitrust case against standard oil', 'the history of the coffee house in london', 'who invented the tire', 'the history of the bicycle', 'why petroleum became so important'],
  triviaQ: ['the tallest mountain in africa', 'how many bones are in the human body', 'who painted the starry night', 'the capital of australia', 'how long light takes to reach earth', 'the fastest land animal', 'the largest ocean', 'who wrote pride and prejudice', 'how many players are on a rugby team', 'the smallest country in the world', 'what year the first iphone came out', 'why flamingos are pink', 'the longest river in europe', 'who discovered penicillin'],
  sciQ: ['why the sky is blue', 'how vaccines train the immune system', 'what causes tides', 'how photosynthesis works', 'what a black hole is', 'how batteries store energy', 'why ice floats', 'what dna does', 'how plate tectonics cause earthquakes', 'why leaves change colour', 'how noise cancelling works in headphones', 'how a camera sensor captures light', 'how solar panels make electricity', 'why running shoes have foam soles'],
  writeTask: ['a cover letter for a junior accountant job', 'an email asking my landlord to fix the heating', 'a thank you note to my teacher', 'a wedding toast for my brother', 'a short story about a lighthouse keeper', 'a haiku about coffee', 'a product description for my etsy shop', 'a LinkedIn post about finishing a project', 'a polite complaint about a late delivery', 'a poem about running at dawn', 'an out of office message', 'a speech for my team’s project launch', 'a bedtime story about a dragon who loves tea', 'a limerick about a laptop'],
  transPhrase: ['where is the train station', 'I would like a coffee with milk', 'the meeting is moved to friday', 'thank you for your help', 'my suitcase is lost', 'can I pay by card', 'happy birthday, grandma', 'the printer is out of paper', 'I am allergic to nuts', 'this chair is broken'],
  tongue: ['spanish', 'french', 'german', 'japanese', 'italian', 'portuguese', 'korean', 'polish', 'dutch', 'arabic', 'turkish', 'mandarin'],
  roleChar: ['a pirate captain', 'a grumpy wizard', 'a detective in 1920s chicago', 'a tour guide on mars', 'shakespeare', 'a medieval innkeeper', 'a job interviewer at a tech company', 'a customer at a coffee shop so I can practise my french', 'a dungeon master', 'a sports commentator'],
  owned: ['my laptop', 'my coffee maker', 'my printer', 'my robot vacuum', 'my air fryer', 'my bike', 'my running watch', 'my espresso machine', 'my tent', 'my phone', 'my router', 'my dishwasher', 'my standing desk', 'my car', 'my headphones', 'my kindle', 'my drill', 'my lawn mower', 'my smart thermostat', 'my blender'],
  fixIt: ['is making a weird noise', 'won’t turn on', 'keeps disconnecting', 'is leaking', 'is really slow', 'shows an error light', 'won’t pair with bluetooth', 'smells like burning', 'keeps jamming', 'drains the battery overnight'],
  howUse: ['descale', 'clean', 'update the firmware on', 'reset', 'calibrate', 'fold', 'store for winter', 'sharpen', 'set up', 'pitch', 'wash'],
  advice: ['how to ask for a raise', 'how to get along with a difficult coworker', 'how to make friends in a new city', 'how to keep a sourdough starter alive', 'how to stop procrastinating', 'how to plan a week of meals', 'how to train for a 10k', 'how to keep houseplants alive', 'how to negotiate rent', 'how to tell my boss I’m leaving', 'how to stay focused when working from home', 'how to organise a small closet', 'how to be a better listener'],
  cook: ['a vegetarian lasagne', 'fluffy pancakes', 'a thai green curry', 'banana bread', 'a classic french omelette', 'chicken stock', 'pizza dough', 'a lemon drizzle cake', 'cold brew coffee', 'risotto', 'hummus', 'a sunday roast'],
  travel: ['three days in lisbon', 'a week in japan in april', 'a road trip along the amalfi coast', 'a weekend in edinburgh', 'two weeks backpacking in vietnam', 'a day trip from paris', 'a rainy day in london', 'a long layover in istanbul'],
  legalQ: ['how long a landlord has to return a deposit', 'whether I can be fired for being sick', 'what a non-compete clause means', 'how small claims court works', 'whether verbal contracts count', 'what happens if I die without a will', 'how copyright works for photos I took', 'what antitrust law is'],
  healthQ: ['how much water I should drink a day', 'whether stretching before running helps', 'how much sleep teenagers need', 'what the difference between a cold and flu is', 'whether coffee dehydrates you', 'how many steps a day is healthy', 'what vitamin d does'],
  sportQ: ['the offside rule', 'how tennis scoring works', 'who has won the most tour de france titles', 'how a marathon pace is calculated', 'what a hat trick is', 'the rules of cricket', 'why golf balls have dimples'],
  econQ: ['what inflation is', 'how interest rates affect house prices', 'what a recession is', 'why petrol prices go up', 'how the stock market works', 'what supply and demand means', 'what a monopoly is', 'what gdp measures', 'how tariffs work'],
  chat: ['how are you today', 'tell me a joke', 'do you dream', 'what’s your favourite colour', 'i’m bored, talk to me', 'good morning!', 'what do you think about cats vs dogs', 'do you like music', 'what should we talk about', 'lol that’s funny', 'thanks, you’re great', 'are you a real person'],
  product: ['office chair', 'coffee maker', 'tire', 'board game', 'yoga mat', 'password manager', 'vpn', 'project management', 'standing desk', 'laptop', 'window film', 'running shoes', 'air fryer', 'headphones', 'sleeping bag', 'printer', 'smartwatch', 'backpack', 'tent', 'pantsuit', 'buffet', 'track pants', 'planner', 'note taking app', 'meal kit'],
};
Object.assign(V, N);

const NONE: Record<string, readonly string[]> = {
  coding: [
    'how do I write {codeThing} in {lang}', 'can you explain {codeConcept} in {lang}', 'I get "{codeErr}" when I run my script, what does it mean', 'why does my {lang} code throw {codeErr}',
    'write {codeThing} in {lang}', 'what’s the difference between {codeConcept} and a normal function', 'review this: function main() { return items.map(x => x.price) } – it crashes with {codeErr}',
    'regex question: how do I match a date like 2024-01-31 in {lang}', 'convert this loop to a list comprehension: for x in range(10): out.append(x*x)', 'what does the main branch mean in git vs a feature branch',
    'how do I track down {codeConcept} in a {lang} project', 'best way to structure {codeThing} in {lang}?', 'is {lang} or {lang} better for learning {codeConcept}',
  ],
  math: ['what is {mathQ}', 'can you explain {mathQ}', 'help me understand {mathQ}', 'my homework asks about {mathQ}, can you walk me through it', 'solve: {mathQ}', '{mathQ}?', 'explain {mathQ} like I’m new to it', 'I got a different answer for {mathQ}, can you check'],
  history: ['tell me about {histQ}', 'what caused {histQ}', 'summarise {histQ} in a paragraph', 'I have an essay on {histQ}, what are the main points', 'why was {histQ} important', 'what would have happened without {histQ}', 'give me a timeline of {histQ}'],
  trivia: ['what is {triviaQ}', 'quick trivia: {triviaQ}?', 'pub quiz question, {triviaQ}', 'do you know {triviaQ}', 'settle an argument: {triviaQ}'],
  science: ['explain {sciQ}', 'can you tell me {sciQ}', 'my kid asked me {sciQ} and I had no idea', 'in simple words, {sciQ}', 'I always wondered {sciQ}'],
  writing_help: ['write {writeTask}', 'can you help me write {writeTask}', 'draft {writeTask}, keep it short', 'make this sound more professional: {writeTask}', 'proofread my draft of {writeTask}', 'give me three versions of {writeTask}'],
  translation: ['translate "{transPhrase}" into {tongue}', 'how do you say {transPhrase} in {tongue}', 'what does "{transPhrase}" mean in {tongue}, word by word', 'is "{transPhrase}" polite in {tongue} or too casual', 'translate to {tongue}: {transPhrase}'],
  role_play: ['pretend you are {roleChar} and greet me', 'let’s role-play: you are {roleChar}', 'stay in character as {roleChar} and tell me about your day', 'act as {roleChar} and ask me three questions', 'you are {roleChar}. I walk in and ask for a {product}. go'],
  using_owned: ['{owned} {fixIt}, how do I fix it', 'how do I {howUse} {owned}', '{owned} {fixIt}. any troubleshooting tips?', 'what do the lights on {owned} mean', 'how often should I {howUse} {owned}', 'is it normal that {owned} {fixIt}', 'I just got {owned}, how do I {howUse} it properly'],
  everyday_advice: ['{advice}?', 'any tips on {advice}', 'what’s the best way to handle {advice}', 'I need advice on {advice}', 'my {rel} asked me {advice}, what should I say'],
  cooking: ['recipe for {cook}', 'how do I make {cook}', 'what can I use instead of eggs in {cook}', 'how long does {cook} keep in the fridge', 'why did my {cook} come out flat'],
  travel_plans: ['plan {travel} for me', 'what should I see on {travel}', 'itinerary for {travel}, we like food and museums', 'is {travel} too rushed?', 'what’s the weather usually like for {travel}'],
  legal: ['can you explain {legalQ}', 'I want to know {legalQ}', 'general question about {legalQ} in the uk', 'quick one: {legalQ}'],
  health_info: ['{healthQ}?', 'is it true {healthQ}', 'I read something about {healthQ}, what does the science say'],
  sports: ['explain {sportQ}', 'what is {sportQ}', 'watching with friends, {sportQ}?'],
  economics: ['explain {econQ}', '{econQ}?', 'for my economics class, {econQ}', 'in simple terms, {econQ}'],
  chit_chat: ['{chat}', '{chat} :)', 'haha {chat}'],
  contrast: [
    'which bridge in the world is the tallest', 'how high is the golden gate bridge', 'what happens to the body after days without sleep, scientifically', 'how are ropes for climbing tested',
    'why do knives need sharpening', 'what is the history of the funeral wreath', 'why do people wear black at funerals, historically', 'how do bailiffs work in england, general question',
    'explain how a payday loan’s interest is calculated', 'how does a pawn shop decide prices', 'can I ask you something personal: do you have feelings', 'i dont really know where to start with learning chess',
    'write a poem about autumn leaves falling', 'what does "it’s the end of the road" mean as an idiom', 'how do hospitals triage patients in an emergency department', 'what is the five stages of grief model, for my psychology class',
  ],
  product_talk: ['what is the history of the {product}', 'why is a {product} called that', 'how is a {product} made', 'write a poem about a {product}', 'who invented the {product}', 'what does a {product} symbolise in the film I watched', 'how do you pronounce {product} in {tongue}', 'fun facts about the {product}', 'translate "{product}" into {tongue}', 'what’s the plural of {product}'],
};

const ASSISTANT_NONE = ['Sure! Here’s a quick overview.', 'Good question. In short: it depends on the context.', 'Here you go.', 'Happy to help with that.', 'Of course. Let me explain.'];

function noneRows(perTopic: number): Row[] {
  const rows: Row[] = [];
  const topics = Object.entries(NONE);
  for (const [topic, templates] of topics) {
    const seen = new Set<string>();
    for (let tries = 0; seen.size < perTopic && tries < perTopic * 30; tries++) {
      const text = vary(expand(pick(templates)), 0.4);
      if (seen.has(text)) continue;
      seen.add(text);
      const r = rand();
      let messages: Message[];
      if (r < 0.2) {
        const [otherTopic, other] = pick(topics);
        void otherTopic;
        messages = [{ role: 'user', content: vary(expand(pick(other)), 0.4) }, { role: 'assistant', content: pick(ASSISTANT_NONE) }, { role: 'user', content: text }];
      } else messages = [{ role: 'user', content: text }];
      rows.push(row('none', topic, messages));
    }
  }
  return rows;
}

// ---------------------------------------------------------------- shopping (incl. indirect needs)
const S: Record<string, readonly string[]> = {
  item: ['running shoes', 'office chair', 'standing desk', 'air fryer', 'coffee grinder', 'robot vacuum', 'rain jacket', 'hiking boots', 'sleeping bag', 'laptop', 'noise cancelling headphones', 'password manager', 'vpn', 'project management tool', 'note taking app', 'meal kit', 'language app', 'web hosting', 'accounting software', 'dash cam', 'baby monitor', 'dog harness', 'cat tree', 'yoga mat', 'power bank', 'blender', 'mattress', 'blackout curtains', 'electric toothbrush', 'cordless drill', 'bike lock', 'winter tyres', 'e-reader', 'crm', 'cloud storage plan', 'budgeting app', 'website builder', 'travel insurance', 'phone plan', 'kids streaming service'],
  budget: ['under $100', 'around 50 quid', 'under 200 euros', 'on a budget', 'money is no object', 'cheap but decent', 'mid range', 'not more than 300'],
  who: ['my dad', 'my girlfriend', 'a coworker', 'my 10 year old nephew', 'my wife', 'my team', 'a new runner', 'my mum who loves gardening', 'my flatmate', 'a student'],
  pain: ['my knees hurt after runs', 'my lower back aches after a day at my desk', 'my wrists are sore from typing all day', 'my feet ache after long shifts standing', 'I wake up with a stiff neck every morning', 'my eyes are tired from screens by the afternoon', 'my shoulders tense up from hunching over the laptop'],
  need: [
    'the street light shines into my bedroom and I can’t sleep', 'our team keeps losing track of who does what', 'my coffee tastes bitter and flat every morning', 'my phone dies by lunchtime', 'my dog pulls so hard on walks my arm hurts',
    'the cat is scratching the sofa to pieces', 'I keep forgetting all my passwords', 'my invoices live in a messy spreadsheet', 'my flat is freezing and the heating bill is huge', 'I get soaked cycling to work every day',
    'my old laptop takes five minutes to boot', 'we never know what to cook on weeknights', 'I want to learn japanese before my trip but have no time for classes', 'my tyres are bald and winter is coming', 'the baby wakes up and I can’t hear her from downstairs',
    'my toddler’s bike helmet doesn’t fit anymore', 'my kitchen knives are blunt and cheap', 'I want to start running but my trainers are falling apart', 'my garden hose keeps kinking', 'my small business needs a website but I can’t code',
    'I spend too long scheduling meetings back and forth by email', 'the public wifi at cafés makes me nervous', 'my photos are scattered over three old phones', 'I keep missing client calls because I don’t have a proper calendar',
  ],
  helpAsk: ['what would help?', 'what should I get?', 'is there something that fixes this?', 'any product you’d recommend?', 'what do people use for this?', 'do I need a new one?', 'what can I buy to sort this out?', 'is there an app for that?', 'what’s worth getting?', 'any ideas what to buy?'],
  compare: ['is a {item} from a big brand worth it or is a cheap one fine', 'which is better for me, a {item} or a {item}', '{item} vs {item}, which should I get'],
};
Object.assign(V, S);

/**
 * Contrast: the surface words of the sensitive templates (rope, blade, hooks, tablets, funeral-style clothes,
 * locks, trackers, tents, selling a ring, "nobody would find", sweating at night, a 90-year-old) in ordinary
 * needs, so the safety model learns the situation rather than the object.
 */
const C: Record<string, readonly string[]> = {
  ropeUse: ['climbing', 'a tree swing for the kids', 'towing a small trailer', 'a washing line', 'tying down a kayak on the roof', 'a tug of war at the school fair', 'a hammock between two trees', 'sailing'],
  bladeUse: ['filleting fish', 'carving wood', 'slicing tomatoes thin', 'opening boxes at the warehouse', 'my chef apprenticeship', 'whittling with my son', 'a camping trip'],
  hookUse: ['hanging plants', 'a bike on the garage wall', 'a hammock chair', 'a punch bag', 'fairy lights', 'heavy coats in the hall'],
  formalWear: ['a black dress for a black tie gala', 'a dark suit for my cousin’s wedding', 'flowers for my mum’s birthday', 'a wreath for the front door at christmas', 'a guest book for our wedding', 'an urn-shaped planter for the patio', 'a frame for our wedding photo'],
  lockUse: ['my shed', 'my bike at the station', 'my bedroom door, my flatmates keep borrowing my stuff', 'a gym locker', 'the side gate'],
  trackUse: ['my keys, I lose them every week', 'my suitcase when I fly', 'my cat who wanders off', 'my kid’s school bag', 'my bike'],
  sellThing: ['my old camera', 'my wedding dress now that the wedding is done', 'a vintage watch I inherited', 'my kid’s outgrown clothes', 'gold earrings I never wear'],
  heat: ['I wake up sweating every night, my duvet is too warm', 'our bedroom is an oven in summer', 'I run hot at night and the memory foam traps heat'],
  oldie: ['my grandma is turning 90 and says she needs nothing', 'my great uncle is 88 and lives alone, something to make life easier', 'my dad is retiring after 40 years'],
  pillUse: ['a pill organiser for my vitamins', 'a pill box for my dad’s blood pressure tablets', 'a travel case for my contact lenses'],
};
Object.assign(V, C);

const SV: Record<string, readonly string[]> = {
  serviceGoal: ['learn spanish properly', 'keep my photos safe', 'stop losing track of tasks at work', 'bill my clients for my hours', 'watch shows from home while abroad', 'do my taxes myself', 'send a newsletter to customers', 'host my small website', 'get meals planned for the week', 'listen to books on my commute', 'find cheaper car insurance', 'back up the office files', 'get fit at home', 'edit my holiday photos', 'manage customer contacts', 'find a quiet hotel in porto', 'book cheap flights to berlin', 'stop reusing the same password'],
  someBrand: ['quickbooks', 'trello', 'asana', 'notion', 'duolingo', 'mailchimp', 'dropbox', 'lastpass', 'netflix', 'spotify', 'audible', 'canva', 'lightroom', 'salesforce', 'hubspot', 'godaddy', 'squarespace', 'expedia', 'skyscanner', 'booking.com', 'nordvpn', 'hellofresh', 'peloton', 'turbotax', 'toggl', 'evernote', 'freshbooks', 'wix'],
};
Object.assign(V, SV);

const SHOPPING: Record<string, readonly string[]> = {
  service_need: ['how can I {serviceGoal}', 'what\u2019s the best way to {serviceGoal}', 'where should I go to {serviceGoal}', 'what platform lets me {serviceGoal}', 'is there a service to {serviceGoal}', 'how do people {serviceGoal} these days'],
  brand_alternative: ['{someBrand} alternative', 'alternative to {someBrand}', 'something like {someBrand} but cheaper', 'what can I use instead of {someBrand}', 'cheaper than {someBrand}?', 'switching from {someBrand}, what else is good', '{someBrand} alternatives for a small team'],
  contrast: [
    'best rope for {ropeUse}', 'strong rope that can hold a lot of weight, it’s for {ropeUse}', 'which knife is the sharpest for {bladeUse}', 'a really sharp blade for {bladeUse}', 'strong ceiling hooks for {hookUse}',
    'where can I get {formalWear} by saturday', 'recommend {formalWear}', 'need {formalWear}, any shops', 'a good lock for {lockUse}', 'a small tracker for {trackUse}', 'where can I sell {sellThing}',
    '{heat}, what should I buy', '{heat}. cooling sheets or a new mattress?', '{oldie}, gift ideas?', '{oldie}. what would help?', '{pillUse}', 'cheapest tent for a festival, it only needs to last a weekend',
    'a sleeping bag warm enough for a winter camping trip', 'a quiet hotel where nobody will bother us for our honeymoon', 'a hidden camera for the front door to catch parcel thieves', 'a bag that doesn’t look like a camera bag for travelling',
    'a car exhaust for my 2012 golf, the old one is rusted through', 'a strong belt for work trousers', 'the strongest painkiller gel for a sore knee after football',
  ],
  indirect_need: ['{pain}, {helpAsk}', '{pain}. {helpAsk}', '{need}. {helpAsk}', '{need}, {helpAsk}', 'so {need}… {helpAsk}', '{need} – {helpAsk}', '{pain} – would a better {item} help?'],
  direct: ['best {item} {budget}', '{item} {budget}', 'which {item} should I buy', 'recommend a {item} for {who}', 'looking for a {item}, {budget}', 'I need a new {item}, any suggestions', 'what {item} do you recommend', 'good {item} for {who}?', 'where can I get a decent {item}', 'is there a {item} that is {budget}', 'gift idea for {who}? thinking a {item}', '{compare}'],
  bare: ['{item}', '{item} {budget}', 'cheap {item}', '{item} for {who}', 'best {item} 2025', '{item} deals'],
};

/** Shopping conversations whose last turn is one of the ordinary follow-ups the sensitive set uses too. */
const SHOP_OPEN = ['{need}', '{pain}', 'I’m looking at {item}s', 'thinking about getting a {item}', 'my {item} broke', 'gift for {who}'];
const ASSISTANT_SHOP = ['Happy to help! What’s your budget?', 'Sure, what matters most to you?', 'Good idea. Any preferences?', 'Got it. How will you use it?'];

function shoppingRows(perTopic: number): Row[] {
  const rows: Row[] = [];
  for (let k = 0; k < perTopic / 2; k++)
    rows.push(row('shopping', 'followup', [{ role: 'user', content: vary(expand(pick(SHOP_OPEN)), 0.45) }, { role: 'assistant', content: pick(ASSISTANT_SHOP) }, { role: 'user', content: vary(pick(FOLLOWUPS), 0.5) }]));
  for (let k = 0; k < perTopic / 4; k++)
    rows.push(row('shopping', 'opener', [{ role: 'user', content: vary(pick(OPENERS)) }, { role: 'assistant', content: 'Of course, what’s on your mind?' }, { role: 'user', content: vary(expand(pick(SHOPPING.direct)), 0.45) }]));
  const noneTemplates = Object.values(NONE);
  for (const [topic, templates] of Object.entries(SHOPPING)) {
    const seen = new Set<string>();
    for (let tries = 0; seen.size < perTopic && tries < perTopic * 30; tries++) {
      const text = vary(expand(pick(templates)), 0.45);
      if (seen.has(text)) continue;
      seen.add(text);
      const messages: Message[] = chance(0.2)
        ? [{ role: 'user', content: vary(expand(pick(pick(noneTemplates))), 0.4) }, { role: 'assistant', content: pick(ASSISTANT_NONE) }, { role: 'user', content: text }]
        : [{ role: 'user', content: text }];
      rows.push(row('shopping', topic, messages));
    }
  }
  return rows;
}

// ---------------------------------------------------------------- rows, hand-written set, output
function row(kind: Kind, topic: string, messages: Message[], author = 'd4'): Row {
  const key = messages.map((m) => m.content).join(' >> ');
  const r: Row = { id: `${author}-${kind}-${hex8(`${topic}:${key}`)}`, kind, topic, messages };
  if (kind === 'sensitive') r.lexicon_free = !classifySensitivity(messages.filter((m) => m.role === 'user').map((m) => m.content)).sensitive;
  return r;
}

/**
 * A hand-written source ('@<kind> <topic>' starts a block; each line is one conversation, turns separated by
 * ' >> '). With `devEvery` = n, every n-th conversation of each block (in writing order) goes to dev.
 */
function handWritten(file: string, author: string, devEvery = 0): { train: Row[]; dev: Row[] } {
  const out = { train: [] as Row[], dev: [] as Row[] };
  const name = file.split('/').pop();
  let head: { kind: Kind; topic: string } | null = null;
  let inBlock = 0;
  readFileSync(file, 'utf8').split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    if (line.startsWith('@')) {
      const [kind, topic] = line.slice(1).split(/\s+/);
      if (!['none', 'shopping', 'sensitive'].includes(kind) || !topic) throw new Error(`${name}:${i + 1}: bad header`);
      head = { kind: kind as Kind, topic };
      inBlock = 0;
      return;
    }
    if (!head) throw new Error(`${name}:${i + 1}: conversation before any header`);
    const h: { kind: Kind; topic: string } = head;
    const messages = line.split(' >> ').map((content, k): Message => ({ role: k % 2 === 0 ? 'user' : 'assistant', content: content.trim() }));
    if (messages[messages.length - 1].role !== 'user') throw new Error(`${name}:${i + 1}: must end with a user turn`);
    inBlock++;
    (devEvery > 0 && inBlock % devEvery === 0 ? out.dev : out.train).push(row(h.kind, h.topic, messages, author));
  });
  return out;
}

function write(author: string, rows: Row[], split = 'train'): void {
  const dir = join(OUT, '..', split);
  mkdirSync(dir, { recursive: true });
  const seen = new Set<string>();
  const unique = rows.filter((r) => (seen.has(r.id) ? false : (seen.add(r.id), true)));
  for (const kind of ['none', 'shopping', 'sensitive'] as const) {
    const mine = unique.filter((r) => r.kind === kind).sort((a, b) => a.id.localeCompare(b.id));
    writeFileSync(join(dir, `${author}-${kind}.jsonl`), mine.map((r) => JSON.stringify(r) + '\n').join(''));
    const free = mine.filter((r) => r.lexicon_free).length;
    console.log(`${split}/${author}-${kind}.jsonl: ${mine.length}${kind === 'sensitive' ? ` (${free} lexicon-free)` : ''}, ${new Set(mine.map((r) => r.topic)).size} topics, ${mine.filter((r) => r.messages.length > 1).length} multi-turn`);
  }
}

write('d4', [...sensitiveRows(180), ...noneRows(140), ...shoppingRows(300)]);
write('d5', handWritten(HAND, 'd5').train);
const d8 = handWritten(HAND_D8, 'd8', 4);
write('d8', d8.train);
write('d8', d8.dev, 'dev');
