/**
 * `bun scripts/make-relevance-set.ts`: writes the product-ad relevance evaluation set to test/fixtures/relevance/.
 * Deterministic (seeded PRNG, no network): running it twice produces byte-identical files.
 *
 *   catalog.jsonl  one fictional product per line (what a retriever may see)
 *   labels.json    ground truth per product: category, sub-niche, distractor flag (what a retriever must NOT see)
 *   queries.json   hand-written chat conversations; `relevant` is derived from (category, sub-niches), never ranked
 *
 * Judgment rule: a commercial query is written against one category and a set of that category's sub-niches
 * ('*' = the whole category); its relevant products are exactly the catalog products of that category whose
 * sub-niche is in the set (distractors included: they are real members of their sub-niche). Unrelated
 * conversations have no relevant products. See test/fixtures/relevance/README.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from './dev-lib';

const OUT = join(import.meta.dir, '..', 'test', 'fixtures', 'relevance');
const SEED = 0x5eed2024;
const REGULAR_PER_CATEGORY = 50;
const DISTRACTORS_PER_CATEGORY = 6;

const rnd = mulberry32(SEED);
const pick = <T>(a: T[]): T => a[Math.floor(rnd() * a.length)];
const shuffle = <T>(a: T[]): T[] => {
  const b = a.slice();
  for (let i = b.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [b[i], b[j]] = [b[j], b[i]];
  }
  return b;
};
const take = <T>(a: T[], n: number): T[] => shuffle(a).slice(0, n);
const L = (s: string): string[] => s.split('|').map((x) => x.trim()).filter(Boolean);
const pad = (n: number, w: number): string => String(n).padStart(w, '0');
const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
const art = (s: string): string => (/^[aeiou]/i.test(s) ? 'an ' : 'a ') + s;
const slug = (s: string): string => s.toLowerCase().replace(/&/g, 'and').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

// ---------------------------------------------------------------------------------------------------------------
// Vocabulary. Category: 'key; label; brands; general features; category keywords; benefit sentences'.
// Sub-niche: 'tag; product label; audience; name nouns; features (noun phrases); keywords'. Fields split on '; ',
// lists on '|'. All brands are invented for this fixture.
// ---------------------------------------------------------------------------------------------------------------
type Sub = { tag: string; label: string; aud: string; nouns: string[]; feats: string[]; kw: string[] };
type Cat = { key: string; label: string; brands: string[]; gen: string[]; kw: string[]; benefits: string[]; subs: Sub[] };
const CATS: Cat[] = [];
function C(head: string, ...subs: string[]): void {
  const [key, label, brands, gen, kw, benefits] = head.split('; ');
  CATS.push({ key, label, brands: L(brands), gen: L(gen), kw: L(kw), benefits: L(benefits), subs: subs.map((s) => {
    const [tag, slabel, aud, nouns, feats, skw] = s.split('; ');
    return { tag, label: slabel, aud, nouns: L(nouns), feats: L(feats), kw: L(skw) };
  }) });
}

C('project_management; project management software; Tasklore|Milestra|Plotwise|Orbitask|Plankwork; unlimited guest collaborators|integrations with chat and calendar tools|role-based permissions|a 14-day free trial; project management|team collaboration|work management; Teams usually get set up in an afternoon.|Imports existing spreadsheets in a few clicks.|Priced per seat with a free tier.',
  'agile; agile planning tool; software teams working in sprints; Sprint|Agile; drag-and-drop task boards with swimlanes|sprint backlogs and story points|burndown charts|work-in-progress limits per column; task board|sprint planning|backlog|scrum',
  'timeline; timeline planner; project managers juggling deadlines and dependencies; Timeline|Roadmap; interactive Gantt timelines|task dependencies with critical-path highlighting|milestone tracking|baseline versus actual schedule comparison; gantt chart|timeline|dependencies|milestones',
  'agency; resource and time tracking workspace; agencies billing clients by the hour; Agency|Timesheet; built-in timesheets|team capacity and workload views|billable-hours reports per client|budget burn alerts per engagement; time tracking|timesheets|resource planning|agency',
  'lists; lightweight shared to-do app; small teams and households who want simple lists; Lists|Lite; shared checklists with due dates|recurring reminders|a clean mobile app|comment threads on every item; to-do list|checklists|reminders|shared lists');
C('crm; CRM software; Dealbloom|Clientara|Pipewell|Quorly|Renlo; custom fields|mobile apps for iOS and Android|reporting dashboards|an open API; crm|customer relationship management|customers; Migrates your contacts from spreadsheets for free.|No per-contact limits on any plan.|Onboarding calls are included.',
  'sales; sales CRM; B2B sales teams; Pipeline|Sales; visual deal pipelines by stage|lead scoring|quota and revenue forecasting|automatic logging of calls and emails; sales pipeline|deals|lead scoring|forecasting',
  'support; customer support CRM; support teams answering customer tickets; Service|Desk; a shared inbox that turns emails into tickets|SLA timers|canned replies|satisfaction surveys after each case; helpdesk|tickets|customer support|shared inbox',
  'realestate; CRM for real estate agents; realtors and brokerages; Realty|Listings; property listing sync|showing schedulers|buyer and seller contact timelines|drip follow-ups for open-house visitors; real estate|realtors|property leads|brokerage',
  'solo; simple contact manager; freelancers and solo consultants; Solo|Contacts; a single contact list with notes|follow-up reminders|invoice-ready client records|email and calendar sync; contact management|freelancers|client list|follow-ups');
C('accounting_software; accounting software; Ledgerbird|Tallymoor|Bookwren|Accrua|Sumfield; bank feeds from thousands of banks|free accountant access|double-entry records|profit and loss reports; accounting software|bookkeeping|finance; Your accountant can log in at no extra cost.|Moves over your historical data on day one.|Certified for digital tax filing.',
  'invoicing; invoicing and bookkeeping app; freelancers and sole traders who bill clients; Invoice|Books; branded invoices with online card payments|automatic late-payment reminders|expense capture from receipt photos|quarterly tax estimates for the self-employed; invoicing|self-employed|receipts|late payments',
  'payroll; payroll and accounting platform; small employers with salaried staff; Payroll|People; automatic payroll runs with tax withholding|payslips emailed to staff|year-end employee tax forms|holiday and leave accruals; payroll|employees|withholding|payslips',
  'ecommerce; accounting software for online stores; e-commerce sellers; Commerce|Stock; sales sync from online marketplaces|stock valuation and cost of goods sold|multi-currency sales tax handling|payout reconciliation; ecommerce accounting|inventory|sales tax|reconciliation',
  'ledger; general ledger for growing companies; finance teams closing the books across several entities; Ledger|Close; multi-entity consolidation|month-end close checklists|audit trails and approval workflows|a custom chart of accounts; general ledger|month-end close|consolidation|audit trail');
C('running_shoes; running shoes; Stridewell|Pacefern|Korvo Athletics|Dunlark|Velmora; a breathable engineered mesh upper|reflective details for low light|a padded heel collar|a removable insole; running shoes|running|footwear; Sized true to length.|Tested over hundreds of kilometres before release.|Free returns on unworn pairs.',
  'trail; trail running shoe; runners who head off-road; Trail|TR; a lugged outsole that bites into loose dirt|a rock plate under the forefoot|a water-shedding upper for stream crossings|a gusseted tongue that keeps grit out; trail running|off-road|grip|mud',
  'road; cushioned road running shoe; runners logging daily miles on pavement; Road|Cushion; thick high-rebound foam for high-mileage weeks|a smooth rocker for tarmac|durable rubber in high-wear zones|a plush tongue and heel; road running|cushioning|daily trainer|pavement',
  'racing; lightweight racing shoe; runners chasing a personal best; Race|Carbon; a full-length carbon-fibre plate|a sub-200-gram build|an aggressive forefoot rocker|a thin race-day upper; racing|carbon plate|marathon|personal best',
  'minimalist; zero-drop minimalist shoe; runners who want a natural stride; Zero|Natural; zero heel-to-toe drop|a thin, flexible 5 mm sole|a foot-shaped toe box|no arch support or motion control; minimalist|zero drop|natural running|ground feel',
  'wide; wide-fit stability running shoe; runners with broad feet or overpronation; Wide|Stable; 2E and 4E width options|a firmer medial post for overpronation|a broad, stable base|extra room across the forefoot; wide fit|stability|overpronation|wide sizes');
C('hiking_gear; hiking gear; Cairnline|Summitra|Bramblepeak|Northvale Outfitters|Ridgewick; recycled ripstop fabric|a lifetime repair programme|reflective trim|PFC-free water repellency; hiking gear|outdoor|hiking; Backed by a no-questions repair policy.|Field-tested on long-distance routes.|Made with bluesign-style audited materials.',
  'backpack; hiking backpack; day hikers and weekend backpackers; Pack|Daypack; an adjustable torso-length harness|a ventilated back panel|hip-belt pockets|a hydration sleeve and hose port; backpack|daypack|hydration|hiking pack',
  'tent; backpacking tent; hikers who camp overnight; Tent|Shelter; a two-person freestanding design|a packed weight under 1.5 kg|a full-coverage rainfly|two doors and vestibules; tent|backpacking|camping|shelter',
  'boots; hiking boot; hikers on rocky, wet trails; Boot|Mid; a waterproof breathable membrane|ankle-high support|a stiff shank for rocky descents|a deep-lugged rubber outsole; hiking boots|waterproof|ankle support|trekking',
  'shell; waterproof shell jacket; hikers caught in changing weather; Shell|Jacket; taped seams and a storm hood|pit zips for venting|a packable design that stuffs into its own pocket|a 20,000 mm waterproof rating; rain jacket|shell|waterproof|layering');
C('coffee_equipment; coffee equipment; Kettlewren|Crema Lane|Ostrova Coffee Works|Pourwell|Beanquist; a stainless steel body|a two-year warranty|easy descaling|replaceable parts; coffee|coffee equipment|brewing; Ships with a starter bag of single-origin beans.|Repairable with standard tools.|Backed by a barista support line.',
  'espresso; home espresso machine; home baristas; Espresso|Barista; a 58 mm portafilter|a PID temperature controller|a steam wand for microfoam|a built-in pressure gauge; espresso machine|latte|portafilter|milk frothing',
  'grinder; burr coffee grinder; people who buy whole beans; Grinder|Mill; conical steel burrs|40 stepped grind settings|low retention for single dosing|a quiet, slow-speed motor; grinder|burr grinder|whole beans|grind size',
  'pourover; pour-over brewing kit; manual brewing fans; Pour-Over|Dripper; a ceramic cone dripper|a gooseneck kettle with temperature hold|a scale with a built-in timer|reusable metal filters; pour over|gooseneck kettle|manual brewing|filter coffee',
  'drip; automatic drip coffee maker; busy households that brew by the pot; Brewer|Drip; a programmable start timer|a thermal carafe that keeps coffee hot for hours|a 12-cup capacity|a bloom cycle that pre-wets the grounds; coffee maker|drip coffee|programmable|carafe');
C('language_learning; language learning; Lingolark|Parlora|Vocabee|Lexaroo|Glossavo; offline mode|courses in over 20 languages|a free first week|progress tracking; language learning|learn a language|languages; Used in over 80 countries.|Plans can be paused at any time.|Designed with applied linguists.',
  'app; bite-sized language app; casual learners with ten minutes a day; Daily|Streak; five-minute daily lessons|streaks and leaderboards|spaced-repetition vocabulary review|speech recognition for pronunciation; language app|vocabulary|daily lessons|gamified',
  'tutor; online tutoring marketplace; learners who want live conversation practice; Tutor|Live; one-to-one video lessons with native speakers|flexible booking across time zones|tutor reviews and trial lessons|lesson notes after each call; tutor|conversation practice|native speakers|video lessons',
  'exam; exam preparation course; students preparing for proficiency tests; Exam|Certify; full-length mock tests with scoring|writing feedback from examiners|band-score predictions|timed listening and reading drills; exam prep|proficiency test|mock tests|certification',
  'business; business language programme; professionals working with international clients; Business|Workplace; role-plays for meetings and negotiations|industry-specific vocabulary packs|company-wide licence management|progress reports for HR; business language|corporate training|professional|meetings');
C('vpn_security; online security software; Tunnelwick|Veilnet|Cloakport|Shieldara|Hushroute; apps for Windows, macOS, iOS and Android|up to 10 devices per subscription|a 30-day money-back guarantee|24/7 live chat support; online security|cybersecurity|internet security; Independently tested every year.|Set up in under five minutes.|No bandwidth caps.',
  'privacy; no-logs VPN service; people who want to browse privately; VPN|Private; an independently audited no-logs policy|WireGuard and OpenVPN protocols|a kill switch|servers in over 60 countries; vpn|privacy|no-logs|encryption',
  'streaming; streaming-friendly VPN; travellers who want their home shows abroad; Stream|Travel; dedicated servers for streaming libraries|fast 10 Gbps nodes for HD video|smart DNS for TVs and consoles|one-tap location switching; streaming|geo-restrictions|travel|smart TV',
  'business; business VPN and zero-trust access; companies with remote employees; Teams|Gateway; dedicated static IPs|single sign-on and device posture checks|access policies per application|a centralised admin console; business vpn|zero trust|remote access|static ip',
  'antivirus; antivirus and device protection suite; households protecting laptops and phones; Guard|Defender; real-time malware scanning|ransomware rollback|phishing link protection|parental controls for kids\' devices; antivirus|malware|device security|phishing');
C('web_hosting; web hosting; Hostwyn|Nimbara|Rackfern|Deployo|Stackhaven; a free SSL certificate|a 99.9% uptime guarantee|a free domain for the first year|24/7 support; web hosting|hosting|website; Migrations from other hosts are free.|Data centres on three continents.|Monthly billing, cancel any time.',
  'wordpress; managed WordPress hosting; bloggers and small business sites; WP|Blog; one-click WordPress installs|automatic core and plugin updates|daily backups with one-click restore|a built-in caching layer; wordpress hosting|blog|managed hosting|cms',
  'vps; cloud VPS; developers who want root access; VPS|Compute; full root access|NVMe storage|hourly billing|snapshots and private networking; vps|cloud server|root access|developers',
  'store; online store builder; makers selling products online; Store|Shop; drag-and-drop storefront themes|built-in card payments and checkout|inventory and shipping labels|abandoned-cart emails; online store|ecommerce|website builder|checkout',
  'static; static site and edge hosting; front-end developers deploying from git; Edge|Static; deploys on every git push|a global edge CDN|preview URLs for each pull request|serverless functions; static hosting|cdn|git deploy|jamstack');
C('note_taking; note-taking app; Jotterly|Mindleaf|Scribloom|Notara|Pagewell; sync across all your devices|end-to-end encrypted notebooks|a web clipper|full-text search; note-taking|notes app|productivity; Your data exports to plain files at any time.|Free for personal use.|Works offline.',
  'handwriting; handwritten notes app; students who write with a stylus; Ink|Pen; pressure-sensitive stylus ink|PDF annotation for lecture slides|handwriting search|audio recording synced to your notes; handwriting|stylus|tablet|pdf annotation',
  'linked; linked-notes knowledge base; writers and researchers building a second brain; Graph|Atlas; bidirectional links between notes|a graph view of connected ideas|markdown files stored locally|daily notes and templates; knowledge base|markdown|linked notes|second brain',
  'wiki; team wiki and docs; teams documenting processes; Wiki|Docs; shared pages with real-time co-editing|page permissions and verification dates|a searchable company handbook|comment threads and mentions; wiki|documentation|team docs|knowledge sharing',
  'meeting; meeting notes assistant; people who spend their day in calls; Meet|Recap; automatic transcription of video calls|summaries and action items after each meeting|speaker identification|calendar integration; meeting notes|transcription|summaries|action items');
C('headphones_audio; audio gear; Sonavel|Quietfen|Bassmoor|Echowren|Tunevale; Bluetooth 5.3 multipoint pairing|a companion app with EQ|fast USB-C charging|a two-year warranty; audio|headphones|sound; Tuned by audio engineers in our own lab.|Replaceable batteries and cushions.|Ships with a hard travel case.',
  'anc; noise-cancelling over-ear headphones; commuters and frequent flyers; ANC|Over-Ear; adaptive active noise cancellation|30-hour battery life|plush memory-foam ear cushions|a transparency mode; noise cancelling|over-ear|headphones|flights',
  'sport; sport earbuds; people who work out with music; Sport|Buds; IPX5 sweat and water resistance|secure ear hooks|a pocketable charging case|bass-forward tuning; earbuds|wireless|sport|workout',
  'studio; studio monitor headphones; musicians and podcasters mixing audio; Studio|Monitor; a flat, neutral frequency response|a detachable coiled cable|closed-back isolation for tracking|50 mm drivers; studio headphones|mixing|monitoring|podcast',
  'speakers; wireless bookshelf speakers; people filling a living room with music; Speaker|Stereo; a pair of powered stereo speakers|Wi-Fi multiroom streaming|an HDMI input for the TV|a built-in phono preamp for turntables; speakers|stereo|multiroom|hi-fi');
C('cameras; cameras; Aperix|Shutterwell|Ondra Optics|Kestrin|Fotavel; RAW capture|Wi-Fi photo transfer to your phone|USB-C charging|weather-sealed buttons; camera|photography|photos; Includes a free sensor clean in the first year.|Firmware updates add features for years.|Kit bundles available.',
  'mirrorless; mirrorless camera; enthusiasts upgrading from a phone; Mirrorless|M2; an APS-C sensor with interchangeable lenses|in-body image stabilisation|fast eye-detect autofocus|a tilting touchscreen; mirrorless|interchangeable lens|camera body|aps-c',
  'action; action camera; surfers, skiers and mountain bikers; Action|Rugged; a waterproof body to 10 m without a case|4K 60fps with horizon levelling|helmet and handlebar mounts|electronic stabilisation for bumpy footage; action camera|waterproof|helmet cam|4k',
  'instant; instant camera; people who love printed snapshots; Instant|Snap; prints that develop in about 90 seconds|a built-in flash and selfie mirror|refill packs of credit-card-sized prints|a retro body in pastel colours; instant camera|instant prints|retro|party',
  'vlog; vlogging compact camera; creators filming themselves; Vlog|Creator; a flip-out selfie screen|a directional microphone with windscreen|a wide 20 mm lens for arm\'s-length shots|a vertical video mode; vlogging|compact camera|content creator|video');
C('cookware; cookware; Hearthwell|Copperlane|Forgeline Kitchen|Panora|Simmerwick; a lifetime warranty|compatibility with gas and electric hobs|a gift-ready box|care instructions for decades of use; cookware|kitchen|cooking; Made in a family-run foundry.|Ships free in plastic-free packaging.|Loved by professional chefs.',
  'castiron; cast iron skillet; cooks who love a hard sear; Skillet|Cast; pre-seasoned cast iron|excellent heat retention for searing|oven- and campfire-safe construction|a helper handle; cast iron|skillet|searing|seasoning',
  'nonstick; ceramic nonstick pan; everyday cooks who hate scrubbing; Nonstick|Ceramic; a PFAS-free ceramic coating|a slick surface for eggs and pancakes|a lightweight aluminium core|dishwasher-safe construction; nonstick|frying pan|ceramic|easy clean',
  'set; tri-ply stainless cookware set; home cooks outfitting a kitchen; Tri-Ply|Set; a 10-piece set of pots and pans|tri-ply bonded stainless steel|induction-ready bases|stay-cool riveted handles; stainless steel|cookware set|induction|pots and pans',
  'dutch; enamelled Dutch oven; bakers and slow cooks; Dutch Oven|Cocotte; enamelled cast iron that needs no seasoning|a tight-fitting self-basting lid|a 5.5-litre capacity|oven-safe construction to 260 °C; dutch oven|braising|bread baking|stew');
C('meal_kits; meal kits; Forkbox|Supperfield|Dinnerloop|Prepwell|Larderly; flexible skip-a-week subscriptions|recyclable insulated packaging|a discount on the first box|no long-term commitment; meal kit|food delivery|dinner; Menus change every week.|Ingredients sourced from regional farms.|Delivery slots six days a week.',
  'family; family meal kit; parents feeding picky kids; Family|Table; kid-friendly recipes for four|30-minute dinners|pre-portioned ingredients|a weekly menu of 20 choices; meal kit|family dinners|recipes|kids',
  'plant; plant-based meal kit; vegans and flexitarians; Plant|Green; 100% plant-based menus|high-protein tofu, tempeh and legume dishes|seasonal organic vegetables|no dairy or eggs anywhere; vegan|plant-based|vegetarian|meal delivery',
  'macro; macro-counted prepared meals; people tracking protein and calories; Fit|Macro; ready-to-heat meals in 3 minutes|macros printed on every tray|high-protein, portion-controlled plates|plans for cutting or bulking; prepared meals|high protein|calories|meal prep',
  'gourmet; chef-designed gourmet kit; couples who want a restaurant night in; Chef|Gourmet; recipes from restaurant chefs|premium cuts and specialty ingredients|date-night menus for two|wine pairing suggestions; gourmet|date night|chef recipes|premium');
C('pet_supplies; pet supplies; Pawsmith|Whiskerwell|Barkley Lane|Tailory|Nibbleton Pet; free shipping on subscriptions|a satisfaction guarantee|sizes for small and large breeds|eco-friendly packaging; pet supplies|pets|dogs and cats; Developed with veterinary nutritionists and trainers.|Auto-ship can be paused any time.|Made in small batches.',
  'food; fresh dog food subscription; dog owners; Fresh|Kitchen; human-grade recipes portioned for your dog\'s weight|grain-free and sensitive-stomach options|vet-formulated nutrition|frozen packs delivered monthly; dog food|fresh food|nutrition|puppy',
  'litter; self-cleaning litter box; cat owners tired of scooping; Litter|Cat; automatic waste raking after each visit|an odour-sealed waste drawer|app alerts when the drawer is full|a multi-cat sensor; litter box|cat|self-cleaning|odour',
  'toys; pet enrichment toys; owners of bored, energetic pets; Play|Puzzle; treat-dispensing puzzle feeders|durable chew toys for strong jaws|motion-activated toys for solo play|difficulty levels that grow with your pet; pet toys|enrichment|chew toys|treat puzzle',
  'tracker; GPS pet tracker; owners of escape-prone pets; Tracker|Locate; live GPS location on your phone|virtual fence escape alerts|activity and sleep monitoring|a waterproof collar clip; gps tracker|collar|lost pet|activity');
C('home_fitness; home fitness equipment; Ironloft|Repwell|Corebound|Kinetra Home|Lifthaven; a free trial of the training app|free delivery and assembly|a 5-year frame warranty|a compact footprint; home fitness|workout|exercise equipment; Rated for daily use.|Assembly takes under an hour.|Ships in two boxes.',
  'dumbbells; adjustable dumbbell set; people lifting at home with little space; Dumbbell|Dial; a dial that switches from 2.5 to 24 kg in seconds|a compact storage tray|a knurled steel handle|a design that replaces 15 pairs of weights; dumbbells|strength training|weights|home gym',
  'rower; connected indoor rowing machine; people doing cardio at home; Rower|Cardio; a magnetic resistance flywheel|a touchscreen with live classes|foldable upright storage|heart-rate tracking; rowing machine|cardio|indoor workout|classes',
  'yoga; yoga and pilates gear; people stretching and practising yoga; Mat|Balance; a 6 mm non-slip natural rubber mat|cork blocks and a cotton strap|an alignment-line print|a carry sling; yoga mat|pilates|stretching|flexibility',
  'rack; squat rack and bench; lifters building a garage gym; Rack|Bench; a 300 kg-rated steel power rack|safety spotter arms|an adjustable incline bench|a pull-up bar and plate storage; power rack|squat|bench press|garage gym');
C('cycling; bicycles; Spokewell|Chainfern|Pedalwick|Cadenza Cycles|Torvik Bikes; a lifetime frame warranty|a free first service|sizes from XS to XL|tubeless-ready wheels; cycling|bicycles|bike; Delivered 95% assembled.|Test rides available at partner shops.|Spare parts stocked for ten years.',
  'ebike; electric commuter bike; commuters who want to arrive fresh; E-Commute|Electric; a 250 W mid-drive motor|a 90 km battery range|integrated lights and fenders|a rear rack for panniers; e-bike|electric bike|commuting|pedal assist',
  'gravel; gravel bike; riders mixing tarmac and dirt roads; Gravel|Allroad; a carbon frame with clearance for 45 mm tyres|hydraulic disc brakes|a wide-range 1x drivetrain|mounts for bags and bottles; gravel bike|road bike|bikepacking|disc brakes',
  'kids; kids\' bike; families with young riders; Kids|Balance; a lightweight aluminium frame sized for ages 3 to 10|a balance-bike mode with removable pedals|short-reach brake levers|a low step-over height; kids bike|balance bike|children|first bike',
  'trainer; smart indoor trainer; cyclists training through winter; Trainer|Turbo; a direct-drive unit with 2,000 W resistance|compatibility with virtual ride apps|power measurement within 2%|a quiet belt drive; indoor trainer|turbo trainer|virtual rides|winter training');
C('travel_booking; travel booking; Wanderlane|Jetsable|Roamora|Staybird|Farepilot; 24/7 traveller support|a price-match guarantee|a mobile app with offline tickets|no booking fees; travel|booking|trips; Trusted by over a million travellers.|Loyalty credit on every booking.|Pay in three instalments.',
  'flights; flight deal finder; travellers hunting cheap airfare; Fares|Flights; fare alerts when prices drop|flexible-date calendar search|multi-city itineraries|price predictions for when to book; cheap flights|airfare|fare alerts|flights',
  'rentals; holiday rental platform; families and groups wanting a whole home; Homes|Stays; entire villas, cabins and apartments|verified guest reviews|pet-friendly filters|free cancellation on many listings; vacation rental|holiday home|cabin|accommodation',
  'corporate; corporate travel management; companies booking trips for employees; Business|Corporate; policy-compliant booking for flights and hotels|centralised invoicing|duty-of-care traveller tracking|expense tool integration; business travel|corporate travel|travel policy|expenses',
  'tours; guided tour and package holidays; travellers who want everything arranged; Tours|Escapes; small-group guided itineraries|flights, hotels and transfers in one package|local guides and entry tickets|financial protection for package bookings; package holiday|guided tours|all-inclusive|group tours');
C('budgeting_apps; personal finance apps; Coinlark|Budgetta|Thriftwell|Spendora|Nestegg Labs; bank-level encryption|read-only account connections|a 34-day free trial|spending charts and reports; personal finance|budget app|money; Never sells your data.|Connects to over 10,000 institutions.|Available on web and mobile.',
  'envelope; zero-based budgeting app; people who want every dollar assigned a job; Envelope|Zero; envelope-style spending categories|automatic bank transaction import|goals for irregular expenses|rollover of unspent category money; budgeting|envelope budgeting|spending categories|money management',
  'couples; shared finances app for couples; couples managing money together; Together|Duo; joint and individual account views|bill-splitting with live balances|shared savings goals|private spending allowances; couples|shared expenses|joint accounts|bill splitting',
  'networth; net-worth and investment tracker; investors following all their accounts; Wealth|Net Worth; net-worth tracking across banks, brokerages and pensions|portfolio allocation and fee analysis|retirement projections|dividend tracking; net worth|investments|portfolio|retirement',
  'debt; debt payoff planner; people paying down credit cards and loans; Debt|Payoff; snowball and avalanche payoff strategies|a debt-free date countdown|interest-saved calculations|payment reminders; debt payoff|credit cards|loans|debt free');
C('online_courses; coding bootcamps and tech courses; Codeforge Academy|Syntaxa|Devlume|Stackwise Academy|Loopwork School; flexible payment plans|a student community on chat|lifetime access to materials|a free intro week; online courses|learn to code|tech education; Graduates work at over 500 companies.|Income-share and instalment options.|Taught by working engineers.',
  'webdev; full-stack web development bootcamp; career changers aiming for a developer job; Full-Stack|Web; a 16-week immersive curriculum in JavaScript, React and Node|a portfolio of real projects|career coaching with job-guarantee terms|live instructors and code reviews; coding bootcamp|web development|career change|javascript',
  'data; data science and machine learning course; analysts moving into data science; Data|ML; Python, pandas and SQL from scratch|machine learning projects on real datasets|statistics refreshers|mentor office hours; data science|machine learning|python|analytics',
  'kids; coding classes for kids; parents of 8 to 14 year olds; Junior|Kids; block-based coding that graduates to Python|small live classes with teachers|game and robot projects|progress reports for parents; kids coding|children|stem education|after-school',
  'cloud; self-paced cloud certification course; IT pros preparing for cloud exams; Cloud|Certify; hands-on labs in sandbox accounts|practice exams that mirror the real certification|video lessons you can watch at any pace|a certificate of completion; cloud certification|devops|it training|self-paced');
C('gardening; gardening supplies; Greenmoss|Sprouthill|Loamwell|Fernbright|Tendril & Co; free delivery over a minimum spend|a satisfaction guarantee|expert growing guides|sustainably sourced materials; gardening|garden|plants; Grown and packed by horticulturists.|Two-year guarantee on hardware.|Carbon-neutral delivery.',
  'hydro; indoor hydroponic garden; apartment dwellers growing herbs; Hydro|Grow; a countertop hydroponic system with LED grow lights|pre-seeded pods for basil and lettuce|a water-level sensor|no soil required; hydroponics|indoor garden|herbs|grow lights',
  'raised; raised garden bed kit; backyard vegetable growers; Raised Bed|Veg; galvanised steel raised beds|modular sizes and heights|companion planting guides|drip irrigation add-ons; raised bed|vegetable garden|allotment|growing food',
  'lawn; cordless garden tools; homeowners maintaining a lawn; Cordless|Mower; a 40 V battery platform shared across tools|a self-propelled mower|hedge trimmers and leaf blowers|a quick charger; lawn mower|garden tools|cordless|hedge trimmer',
  'seeds; seed and plant subscription; gardeners who want new varieties each season; Seed Club|Seeds; heirloom seed packets delivered each season|regionally matched planting calendars|organic, open-pollinated varieties|houseplant cuttings; seeds|heirloom|seed subscription|planting calendar');
C('office_furniture; office furniture; Posturo|Deskhaven|Ergonova|Benchline Works|Lumbra Seating; free delivery and tool-free assembly|a 12-year warranty|a 100-night trial|recycled materials; office furniture|home office|workspace; Designed with occupational therapists.|Spare parts available for a decade.|Assembled in about 20 minutes.',
  'chair; ergonomic office chair; people sitting eight hours a day; Task Chair|Ergo; adjustable lumbar support|4D armrests|a breathable mesh back|seat-depth adjustment; office chair|ergonomic|lumbar support|desk chair',
  'standing; electric standing desk; remote workers who want to alternate sitting and standing; Sit-Stand|Lift; dual motors with memory presets|a height range of 62 to 127 cm|anti-collision sensors|a solid bamboo or laminate top; standing desk|sit stand|height adjustable|desk',
  'gaming; gaming chair; gamers and streamers; Gaming|Racer; a racing-style bucket seat|a 165° recline|a memory-foam headrest pillow|stitched leatherette upholstery; gaming chair|recline|streaming setup|gamers',
  'compact; compact home office furniture; people working from small flats; Compact|Nook; wall-mounted fold-down desks|narrow filing cabinets on casters|cable-management trays|desks under 100 cm wide; small desk|home office|storage|compact furniture');
C('mattresses_sleep; sleep products; Dozewell|Slumbra|Nocturo|Hushbed|Pillowmoor; a 100-night home trial|free returns|a 10-year warranty|certified low-VOC foams; sleep|mattress|bedroom; Delivered rolled in a box.|Old mattress removal available.|Made in our own factory.',
  'foam; memory foam mattress; side sleepers who want pressure relief; Foam|Contour; contouring memory foam layers|pressure relief at shoulders and hips|motion isolation for couples|bed-in-a-box delivery; memory foam|mattress|side sleeper|pressure relief',
  'hybrid; cooling hybrid mattress; hot sleepers; Hybrid|Cool; pocketed coils for airflow|a phase-change cooling cover|gel-infused comfort foam|reinforced edges; hybrid mattress|cooling|hot sleepers|coils',
  'pillow; adjustable pillow; people who can never find the right pillow; Pillow|Loft; removable fill to adjust loft|a shredded latex and fibre blend|a washable bamboo cover|options for back, side and stomach sleepers; pillow|neck support|bedding|loft',
  'sleeptech; sleep tracking and sound machine; light sleepers; Rest|Sunrise; a white-noise and sound machine|a sunrise alarm that wakes you with light|under-mattress sleep tracking|a bedside companion app; sleep tracker|white noise|sunrise alarm|sleep quality');
C('video_editing; video editing software; Cutlark|Framewright|Splicely|Reelcraft|Timelyne; GPU-accelerated exports|a free version with a watermark|stock footage integration|apps for Windows and macOS; video editing|video|editing software; Perpetual licence or monthly plan.|Free updates for a year.|Opens projects from other editors.',
  'pro; professional non-linear editor; filmmakers and post-production studios; Cinema|Post; multicam editing|advanced colour grading with LUTs|8K RAW timeline support|collaborative project bins; video editor|colour grading|post-production|filmmaking',
  'shorts; short-form video editor; creators posting vertical clips; Shorts|Clip; auto captions in 30 languages|vertical 9:16 templates|trending audio and transitions|one-tap export to social apps; short videos|captions|social media|reels',
  'home; beginner-friendly video editor; families making holiday movies; Home|Memories; drag-and-drop timelines|automatic highlight reels from your clips|a built-in music library|guided editing modes; beginner video editing|home movies|slideshow|family videos',
  'screencast; screen recording and tutorial editor; teachers and software trainers; Screencast|Capture; screen and webcam recording|zoom-and-pan on cursor clicks|annotations and callouts|chapter markers for lessons; screen recording|tutorials|screencast|online teaching');
C('email_marketing; email marketing software; Mailwren|Sendora|Postwick|Campaigna|Dispatchly; a drag-and-drop email designer|GDPR-ready signup forms|list segmentation|detailed analytics; email marketing|email|campaigns; Free up to 1,000 contacts.|Imports lists from any provider.|Deliverability experts on call.',
  'newsletter; newsletter platform; writers growing a paid newsletter; Newsletter|Letters; paid subscriptions with built-in payments|a public archive and web publishing|referral programmes for readers|a clean, writer-first editor; newsletter|subscribers|paid subscriptions|creators',
  'commerce; email automation for online shops; store owners recovering sales; Commerce|Automate; abandoned-cart and browse-abandonment sequences|product recommendation blocks|revenue attribution per email|an SMS add-on; email automation|abandoned cart|ecommerce|sms',
  'outreach; sales outreach sequencer; SDRs sending cold email; Outreach|Sequence; personalised multi-step sequences|inbox warm-up and deliverability checks|reply detection that pauses sequences|A/B-tested subject lines; cold email|outreach|sequences|deliverability',
  'transactional; transactional email API; developers sending receipts and account emails; API|Relay; a REST and SMTP sending API|dedicated IPs and domain authentication|webhooks for bounces and opens|versioned templates; transactional email|email api|smtp|developers');
C('password_managers; password managers; Keyfold|Lockara|Passlane|Cipherwell|Keymoss; zero-knowledge encryption|an independent security audit|a free tier|biometric unlock; password security|logins|credentials; Imports from browsers in one click.|Open-source cryptography.|Works on every major platform.',
  'personal; personal password manager; individuals juggling dozens of logins; Personal|Keychain; autofill on every browser and phone|a password generator|breach alerts for reused passwords|encrypted storage for cards and IDs; password manager|passwords|autofill|password generator',
  'family; family password manager; households sharing streaming and bank logins; Family|Household; up to six family members|shared folders for household accounts|emergency access for a trusted contact|kid-safe account recovery; family sharing|shared passwords|household|emergency access',
  'business; business password manager; IT admins managing staff credentials; Business|Teams; SSO and SCIM provisioning|admin policies and audit logs|offboarding that revokes shared credentials|secrets management for developers; enterprise password manager|sso|credentials|it admin',
  'hardware; hardware security key; people adding two-factor authentication; Key|Token; USB-C and NFC hardware keys|passkey and FIDO2 support|phishing-resistant two-factor login|a rugged waterproof body; security key|two-factor|2fa|passkeys');
C('board_games; board games; Meeplewood|Dicewright|Tablequest|Cardhollow|Rollmoor Games; beautifully illustrated components|a rules video online|optional expansions|plastic-free packaging; board games|tabletop|games night; Designed by an award-winning studio.|Playtested by hundreds of groups.|Language-independent components.',
  'party; party game; groups of six or more; Party|Charades; rounds that take five minutes|support for up to 12 players|rules explained in one minute|drawing and guessing rounds; party game|large groups|drawing|guessing',
  'strategy; heavy strategy board game; experienced hobby gamers; Strategy|Empire; engine-building economies|90 to 150 minutes of play|asymmetric factions|deep worker placement; strategy game|euro game|worker placement|hobby games',
  'coop; cooperative family game; families with kids aged 7 and up; Co-op|Family; everyone playing together against the game|20-minute sessions|sturdy, kid-friendly components|rules that scale from 2 to 5 players; cooperative|family game|kids|co-op',
  'duel; two-player duel game; couples and pairs; Duel|Duet; tight head-to-head card play|30-minute matches|a compact travel box|deckbuilding with hundreds of combinations; two player|couples|card game|duel');
C('skincare; skincare; Dewlane|Glowmere|Velvra|Aubriel|Lumisoft; dermatologist-tested formulas|cruelty-free ingredients|recyclable packaging|a 60-day satisfaction guarantee; skincare|skin care|beauty; Free samples with every order.|Formulated without parabens.|Refill pouches available.',
  'sunscreen; daily mineral sunscreen; people who want protection without a white cast; SPF|Daylight; broad-spectrum SPF 50 protection|a sheer tint that leaves no white cast|a lightweight fluid that wears under makeup|reef-conscious mineral filters; sunscreen|spf|sun protection|mineral',
  'oily; oil-control cleanser and toner; people with oily, shiny skin; Clarify|Matte; a gentle salicylic-acid cleanser|a pore-refining niacinamide toner|oil-free, non-comedogenic formulas|a mattifying finish; oily skin|cleanser|pores|toner',
  'dry; barrier-repair moisturiser; people with dry, easily irritated skin; Barrier|Cream; ceramides and squalane|fragrance-free formulas|a rich overnight cream|a pH-balanced, soap-free wash; moisturiser|dry skin|sensitive skin|fragrance free',
  'retinol; retinol night serum; people targeting fine lines; Renew|Night; encapsulated retinol for gradual release|peptides and hyaluronic acid|a beginner-strength starter formula|an eye cream for crow\'s feet; retinol|anti-aging|fine lines|serum');
C('photography_courses; photography courses; Shutterschool|Brightframe School|Pixelmoor Academy|Exposia|Framefield Academy; lifetime access|a private student community|a certificate of completion|video lessons with downloadable notes; photography courses|learn photography|online class; Taught by working photographers.|New lessons added monthly.|Money back within 30 days.',
  'basics; beginner photography course; new camera owners; Foundations|Basics; lessons on aperture, shutter speed and ISO|weekly shooting assignments|a step-by-step path off auto mode|feedback from working photographers; photography course|beginners|manual mode|exposure',
  'editing; photo editing masterclass; photographers who want better edits; Editing|Darkroom; raw processing workflows|colour grading and presets|non-destructive portrait retouching|catalogue organisation; photo editing|raw processing|retouching|presets',
  'business; portrait and wedding photography business course; photographers going professional; Business|Wedding; pricing and contracts for paid shoots|posing and lighting for portraits|client galleries and booking workflows|second-shooter wedding mentorship; wedding photography|portraits|photography business|pricing',
  'phone; smartphone photography course; people who only shoot on their phone; Mobile|Phone; composition tricks for phone cameras|night and portrait mode techniques|editing in free mobile apps|projects you can shoot on a lunch break; phone photography|smartphone|mobile photos|composition');
C('3d_printing; 3D printing; Layerforge|Filamenta|Extrudo|Printhollow|Voxelry; an active user community|free slicer software|a one-year warranty|spare parts shipped fast; 3d printing|maker|additive manufacturing; Unboxed to first print in 15 minutes.|Open firmware.|Used in thousands of school labs.',
  'fdm; desktop FDM 3D printer; hobbyists printing their first parts; Printer|Core; automatic bed levelling|a 256 mm build volume|a direct-drive extruder|print speeds up to 500 mm/s; 3d printer|fdm|pla|hobby',
  'resin; resin 3D printer; miniature painters and jewellers; Resin|MSLA; a 12K monochrome LCD for fine detail|layer heights down to 10 microns|a wash-and-cure station|an odour-reducing air filter; resin printer|miniatures|sla|fine detail',
  'filament; 3D printing filament; makers who print a lot; Filament|Spool; PLA, PETG and TPU on 1 kg spools|a diameter tolerance of ±0.02 mm|vacuum-sealed, moisture-free packaging|carbon-fibre-filled engineering blends; filament|pla|petg|spools',
  'scanner; 3D scanner; designers capturing real objects; Scan|Capture; handheld structured-light scanning|0.05 mm accuracy|colour texture capture|mesh export to STL and OBJ; 3d scanner|scanning|reverse engineering|stl');

// Distractor vocabulary: generic marketing words plus words that are strong terms in OTHER categories.
const MODELS = L('Apex|Torrent|Kestrel|Meridian|Quill|Halcyon|Ember|Solace|Vela|Cirrus|Juniper|Onyx|Sable|Tundra|Cobalt|Lumen|Harbor|Vesper|Aria|Birch|Cinder|Drift|Fable|Gale|Indigo|Larch|Marlin|Nimbus|Orchid|Pike|Quartz|Rowan|Sierra|Talon|Umber|Wren|Zephyr');
const GENERIC = L('Pro|Smart|Easy|Best|Max|Plus|Prime|One');
const CROSS = L('Plan|Project|Track|Board|Note|Host|Shield|Budget|Course|Run|Trail|Kit|Studio|Flow|Sprint|Ledger|Vault|Stream|Pulse|Guard');
const GENERIC_LINES = L('The smart, easy plan for every project.|Our best pro edition: easy to start and smart enough to track everything.|Pro results, an easy plan and the best way to track your progress.|Smart features, easy setup and the best-value plan we offer.|Built for pros, easy for beginners, and the smart plan for any project.|Track it, plan it, run it: the easy pro choice for busy people.');
const GENERIC_KW = L('pro|smart|best value|easy setup|all-in-one');
const THEMES = L('spring launch|always-on|holiday season|new-customer|back-to-school|summer|year-end|brand awareness');

// ---------------------------------------------------------------------------------------------------------------
// Catalog generation.
// ---------------------------------------------------------------------------------------------------------------
type Product = { id: string; advertiser: string; campaign: string; name: string; description: string; url: string; keywords: string[]; category: string; campaign_context: string };
type Label = { category: string; subniche: string; distractor: boolean };

function describe(c: Cat, s: Sub, distractor: boolean): string {
  const [f1, f2] = take(s.feats, 2);
  const g = pick(c.gen);
  const t = Math.floor(rnd() * (distractor ? 3 : 4));
  let d =
    t === 0 ? `${cap(art(s.label))} with ${f1} and ${f2}.` :
    t === 1 ? `${cap(s.label)} for ${s.aud}, featuring ${f1}, ${f2} and ${g}.` :
    t === 2 ? `Made for ${s.aud}: ${f1}, plus ${g}.` :
    `${cap(art(s.label))} built around ${f1}. Comes with ${f2} and ${g}.`;
  if (distractor) d += ' ' + pick(GENERIC_LINES);
  else if (t < 3 && rnd() < 0.5) d += ' ' + pick(c.benefits);
  return d;
}

const drafts: { p: Omit<Product, 'id'>; label: Label }[] = [];
const allNames = new Set<string>();
let advN = 0;
let campN = 0;
for (const c of CATS) {
  const half = Math.ceil(c.subs.length / 2);
  const advs = c.brands.map((brand) => {
    const id = `adv${pad(++advN, 3)}`;
    const camps = [c.subs.slice(0, half), c.subs.slice(half)].map((grp) => ({
      id: `c${pad(++campN, 3)}`,
      tags: grp.map((s) => s.tag),
      ctx: `${brand} ${pick(THEMES)} campaign for ${c.label}, aimed at ${grp.map((s) => s.aud).join('; ')}.`,
    }));
    return { id, brand, camps };
  });
  for (let i = 0; i < REGULAR_PER_CATEGORY + DISTRACTORS_PER_CATEGORY; i++) {
    const distractor = i >= REGULAR_PER_CATEGORY;
    const s = c.subs[i % c.subs.length];
    const adv = distractor ? pick(advs) : advs[Math.floor(i / c.subs.length) % advs.length];
    const camp = adv.camps.find((k) => k.tags.includes(s.tag))!;
    let line = '';
    for (let tries = 0; ; tries++) {
      if (tries > 500) throw new Error(`cannot find a unique name in ${c.key}/${s.tag}`);
      line = distractor ? `${pick(CROSS)} ${pick(GENERIC)} ${pick(s.nouns)}` : `${pick(MODELS)} ${pick(s.nouns)}`;
      if (!allNames.has(`${adv.brand} ${line}`)) break;
    }
    const name = `${adv.brand} ${line}`;
    allNames.add(name);
    // 2-3 sub-niche keywords + 1-2 category keywords (+1 generic for distractors), de-duplicated, 3..6 in all.
    const kw = new Set([...take(s.kw, 2 + (rnd() < 0.5 ? 1 : 0)), ...take(c.kw, 1 + (rnd() < 0.5 ? 1 : 0))]);
    for (const k of shuffle(s.kw)) if (kw.size < 3) kw.add(k);
    if (distractor) kw.add(pick(GENERIC_KW));
    drafts.push({
      p: {
        advertiser: adv.id, campaign: camp.id, name, description: describe(c, s, distractor),
        url: `https://${slug(adv.brand).replace(/-/g, '')}.example/${slug(line)}`,
        keywords: [...kw].slice(0, 6), category: c.key, campaign_context: camp.ctx,
      },
      label: { category: c.key, subniche: s.tag, distractor },
    });
  }
}
// Shuffle so that ids carry no category order, then number.
const catalog: Product[] = [];
const labels: Record<string, Label> = {};
shuffle(drafts).forEach((d, i) => {
  const id = `p${pad(i + 1, 4)}`;
  catalog.push({ id, ...d.p });
  labels[id] = d.label;
});

// ---------------------------------------------------------------------------------------------------------------
// Queries. Commercial: Q(category, 'subs: text ## subs: text', ...) where subs is a sub-niche tag, 'a+b' (either)
// or '*' (whole category); text is one or more turns split on ' || ', alternating user / assistant, starting and
// ending with the user. Hand-written; phrasing deliberately avoids the catalog's own words where a real user
// would ('sneakers', 'kanban', 'cans', 'zettelkasten', ...).
// ---------------------------------------------------------------------------------------------------------------
const COMMERCIAL: [string, string, string][] = [];
function Q(category: string, ...lines: string[]): void {
  for (const q of lines.join(' ## ').split(' ## ')) COMMERCIAL.push([category, q.slice(0, q.indexOf(': ')), q.slice(q.indexOf(': ') + 2)]);
}
Q('project_management',
  "agile: what's a good kanban tool for a dev team of 8? we do two-week iterations ## timeline: I run a kitchen renovation business and need something that shows which jobs hold up other jobs on a calendar bar chart",
  "agency: we're a 6-person design studio, need to log hours against each client and see who is overloaded. what should we use?",
  "lists: my flatmates and I keep forgetting whose turn it is to take out the bins || That's a common problem in shared homes! Some people put a rota on the fridge. || yeah the fridge thing failed. is there an app where we can share a chore list that pings us?",
  "*: Our team is drowning in spreadsheets to keep track of who's doing what. What software should we switch to? ## timeline: Looking for software to plan a product launch with key dates and see whether we're slipping versus the original plan",
  "agile: I just became scrum master for our mobile app team || Congrats! What's the team's current setup? || honestly just sticky notes on a wall. I want to move it online where we can estimate with points and see velocity");
Q('crm',
  "sales: our reps keep losing track of which prospects are about to sign. what should we be using? ## support: customer complaint emails all go to one gmail address and things fall through the cracks. need a better system ## realestate: I sell homes for a living and need to keep track of every buyer who came through a viewing",
  "solo: I'm an independent consultant with about 40 clients. I want a simple place to keep notes on each and remember to check in",
  "sales: we're a B2B startup with 5 salespeople || Nice, what are you selling? || HR software to mid-size companies. the board wants a revenue projection every quarter and our spreadsheet is a mess. what tool should we get? ## *: what's a decent customer database for a small company that's outgrowing excel?");
Q('accounting_software',
  "invoicing: I'm a freelance translator and chasing clients to pay me is a nightmare. any software that sends bills and nudges them automatically? ## payroll: just hired my first two staff. how do I pay them every month with the right tax taken off? is there software for that?",
  "ecommerce: I sell on Etsy and Amazon and my books are a disaster. I need something that handles what my stock cost me and sales tax in different states ## ledger: our CFO wants to combine the financials of three subsidiaries and close each month faster. what platforms do mid-size companies use?",
  "invoicing: I went self-employed as a plumber this year || Congratulations on going independent! || thanks. my accountant says I need to keep proper records and hang on to every receipt. what should I use? ## *: which bookkeeping software would you recommend for a small business?");
Q('running_shoes',
  "trail: need sneakers for muddy mountain paths, my current ones slip everywhere ## road: my knees ache after jogging on the sidewalk, I want trainers with more bounce for everyday runs ## racing: what are those super shoes everyone wears to set a PR in a marathon?",
  "minimalist: I want shoes that feel like running with nothing on my feet, really thin and flat ## wide: my feet are really broad and roll inward, normal trainers pinch. what should I buy for jogging?",
  "trail: signed up for a 30k ultra in the Alps this summer || That's amazing! How's training going? || good, but my old sneakers have zero grip on the rocks. what should I get?",
  "road+racing: I signed up for my first half marathon in October || Congratulations! Do you have a training plan? || yep, but my shoes are worn out. what should I pick up for the training and the race itself?");
Q('hiking_gear',
  "backpack: need a rucksack for day walks that doesn't leave my back soaked in sweat ## tent: looking for somewhere to sleep on a 4-day trek that's light to carry, for me and my partner ## boots: what should I wear on my feet for rocky scrambles in the Scottish highlands when it is wet?",
  "shell: I got drenched on a mountain last weekend when the weather turned. what should I buy so that never happens again? ## backpack+tent: planning my first overnight trip into the backcountry in Yosemite || Exciting! Do you have gear already? || nope, nothing. what do I need to carry my stuff and sleep in?",
  "*: what outdoor gear should a beginner invest in for hillwalking?");
Q('coffee_equipment',
  "espresso: I want to make flat whites at home like my local café does ## grinder: pre-ground beans taste stale to me, I'd like to crush them fresh every morning ## pourover: interested in a slow hand-drip setup with a swan-neck kettle for weekend mornings",
  "drip: we go through a whole pot every morning, I want a machine I can set up the night before ## espresso+grinder: I've been spending $6 a day on cappuccinos || That adds up fast! Have you thought about making them at home? || yes! what equipment would I need to do it properly?",
  "*: what's a good gift for my dad who's a coffee nerd?");
Q('language_learning',
  "app: I want to pick up some Spanish on my commute, just a few minutes a day ## tutor: I'd like to actually speak Japanese with a real person once a week, where can I find someone? ## exam: I need a band 7 on IELTS for my visa application in 3 months. any courses to prepare?",
  "business: our sales team has to start handling clients in Germany. is there a programme to train the whole team in German? ## tutor: I'm moving to Italy next spring || How exciting! Do you speak any Italian? || a little from school. I want to practise chatting with locals over video before I go. any service for that?",
  "app: what's a fun way to learn french words, like a game on my phone?");
Q('vpn_security',
  "privacy: I don't want my internet provider seeing every site I visit. what should I get? ## streaming: I'm going to be abroad for three months and want to keep watching my shows from back home ## business: our staff work from home and need to reach the office file server securely. what do companies use?",
  "antivirus: my dad's laptop keeps getting pop-ups and I think he clicked something dodgy. what protection should I install? ## privacy: I work from coffee shops a lot || Nice, lots of remote workers do! || yeah, but I'm worried about people snooping on the public wifi. what should I use?",
  "antivirus: someone in my family got hit by a cyber attack that locked all their files last year || That sounds awful, did they get the files back? || no. I want to protect all the household computers and phones now, what do you recommend?");
Q('web_hosting',
  "wordpress: where can I put a blog for my bakery without dealing with updates and backups myself? ## vps: need a linux box in the cloud I can ssh into and install whatever I want ## store: I make candles and want to sell them on my own website instead of a marketplace",
  "static: where can I deploy my react app automatically every time I push to main? ## vps: I'm building a discord bot in python || Cool project! What does it do? || moderation stuff. it has to stay up 24/7 and my laptop isn't always on. where should I host it?",
  "wordpress+store: I run a small yoga studio and want a website where people can read about classes and buy passes");
Q('note_taking',
  "handwriting: I take lecture notes on my iPad with the pencil, what's the best app for that? ## linked: what's good for a zettelkasten style system where ideas link to each other? ## wiki: our company's onboarding info is scattered across a hundred random docs, we need one place for it",
  "meeting: I'm in back-to-back zoom calls all day and can't write anything down. is there a tool that does it for me?",
  "linked: I'm starting a PhD in history || Congratulations! What's your topic? || medieval trade routes. I'll be reading hundreds of papers and want a system to connect my reading notes over several years. what should I use? ## *: recommend an app to organise my notes across my phone and laptop");
Q('headphones_audio',
  "anc: something to block out the engine drone on long-haul flights? ## sport: my earphones keep falling out when I jog, I want something that stays put ## studio: I record music at home and need cans that don't colour the sound when I mix",
  "speakers: I just got a record player and need something to hook it up to in the living room ## anc: I just started working in an open-plan office || How are you finding it? || honestly the chatter is unbearable, I can't focus. what could I buy to help? ## sport: wireless buds for the gym that won't die from sweat");
Q('cameras',
  "mirrorless: my phone pics aren't cutting it anymore. I want something where I can swap lenses ## action: want to film my snowboard runs from my helmet ## instant: something fun that spits out physical photos for guests at a wedding ## vlog: starting a youtube channel where I talk to the camera, the audio on my phone is terrible",
  "action: going on a scuba and surf trip to Bali next month || Sounds amazing! || yeah. I want to record footage underwater and in the waves, what should I bring? ## mirrorless: I want to get serious about bird photography. what body should I buy to start with?");
Q('cookware',
  "castiron: I can never get a proper crust on steak, my pan doesn't hold heat. what pan should I get? ## nonstick: my eggs always stick and I'm done scrubbing. what should I buy? ## set: just moved into my first apartment and own literally zero pots. what should I get?",
  "dutch: I want one heavy pot for crusty no-knead bread and slow-cooked stews ## nonstick: I'm trying to cook with less oil || Good idea for lighter meals! || right, but everything glues itself to my old frying pan when I do. what should I replace it with? ## castiron: looking for a pan I can also use over a campfire");
Q('meal_kits',
  "family: cooking for two kids and a toddler every night is exhausting, any delivery service that helps? ## plant: I just went vegan and keep eating the same pasta. is there a subscription that sends recipes and ingredients? ## macro: I'm cutting for a bodybuilding show and hate batch cooking chicken and rice every Sunday",
  "gourmet: I want to do something special for our anniversary at home instead of going out to a restaurant ## family: we have three kids under ten || That's a busy household! || very. dinner is always a fight and I never have time to shop. is there something that delivers everything for kid-friendly dinners?",
  "*: are those boxes that send you ingredients with recipe cards worth it? which one should I try?");
Q('pet_supplies',
  "food: my pup has an upset tummy on his current chow, I want something fresher ## litter: I hate cleaning up after my two cats every day, is there something automatic? ## toys: my border collie wrecks the house when I am at work, how can I keep her busy?",
  "tracker: our husky keeps escaping the yard, I want to always know where he is ## food: we're adopting a golden retriever puppy on saturday! || Congratulations! Is everything ready? || mostly, we have a crate and a bed. what should we feed him? we want good quality stuff",
  "toys: my indoor cat seems bored and lazy, what could I get to entertain her?");
Q('home_fitness',
  "dumbbells: I want to build muscle at home but my flat is tiny and can't fit a bunch of weights ## rower: want a low-impact full body cardio machine for the garage ## yoga: my mat slides around during downward dog, I need a grippier one ## rack: I want to squat heavy at home safely without a spotter",
  "rack+dumbbells: our gym membership went up to $90 a month || Ouch, that's a lot! || yeah, we're thinking of building our own lifting setup in the garage instead. what do we need? ## yoga: I'm starting pilates at home from youtube videos, what gear do I need?");
Q('cycling',
  "ebike: I want to bike to work but there's a massive hill and I don't want to arrive sweaty ## gravel: I want a drop-bar bike that handles forest fire roads and multi-day trips with bags strapped on ## kids: my 4 year old wants to learn to ride, we want to skip training wheels entirely",
  "trainer: it's too icy to ride outside, I want to keep training on my own bike in the living room ## ebike+gravel: I'm selling my car to save money || Bold move! How will you get around? || mostly by bike, but it's 15 km each way to the office. what kind of bike should I get?",
  "trainer: what do cyclists use to train indoors on virtual courses over the winter?");
Q('travel_booking',
  "flights: I want to fly to Lisbon sometime in April for as little money as possible ## rentals: we're 8 friends looking for a big house near a lake for a long weekend ## corporate: our office manager books everyone's work trips over email and it's chaos. what do companies use?",
  "tours: I don't want to plan anything, I just want someone to organise a two-week trip through Japan for me ## flights: my sister is getting married in Toronto in June || How lovely! Are you going? || definitely, I live in Manchester. I want the plane ticket as cheap as possible, where should I book?",
  "rentals: we have a dog and want to take her to the coast on holiday. where can we find a cottage that allows pets?");
Q('budgeting_apps',
  "envelope: I run out of money before payday every month and have no idea where it goes ## couples: my girlfriend and I just moved in together and keep arguing over who paid for what ## networth: I have pensions and brokerage accounts all over the place, I want one view of everything",
  "debt: I have 4 maxed-out credit cards and need a strategy to clear them. is there an app for that? ## envelope: I just got my first real job out of college || Congratulations! || thanks! I want to finally be responsible with my paycheck and give each dollar a purpose. any tools?",
  "networth: how can I see my whole financial picture (401k, IRA, savings) in one dashboard?");
Q('online_courses',
  "webdev: I'm a 32-year-old teacher who wants to switch careers into software. where should I retrain? ## data: I do excel reports all day and want to move into AI and predictive modelling. what programme should I take? ## kids: my 10 year old loves minecraft and wants to learn to make his own games, any classes?",
  "cloud: I need to pass the AWS solutions architect exam for a promotion. how should I prepare? ## webdev: I got laid off from my retail management job || I'm sorry to hear that. How are you holding up? || ok. I've always wanted to build websites. is there an intensive programme that could get me hired in a few months?",
  "data: good online programme to learn pandas and statistics from zero?");
Q('gardening',
  "hydro: I have no balcony but want fresh basil all year round in my kitchen ## raised: I want to grow tomatoes and courgettes in my backyard but the soil is heavy clay ## lawn: my grass is knee high and the old petrol machine won't start, thinking of going battery",
  "seeds: is there a service that posts me unusual old-fashioned veg varieties every spring? ## raised: we just bought a house with a big sunny backyard || Congratulations! Any plans for it? || I want to start growing our own vegetables. what should I buy to set up the beds?",
  "hydro: I want to grow salad greens indoors under lights, without the dirt mess");
Q('office_furniture',
  "chair: my lower back is wrecked after working from a dining chair all week. what should I sit on? ## standing: I want a desk that goes up and down so I'm not sitting all day ## gaming: long sessions on my PS5 are killing my neck, I need a better seat ## compact: I need a workspace that fits in the corner of my bedroom",
  "chair+standing: I've been working remotely for two years now || How's that going? || fine, except my back and neck are killing me by evening. what should I upgrade in my setup? ## *: kitting out a new home office from scratch. what furniture should I buy?");
Q('mattresses_sleep',
  "foam: I sleep on my side and wake up with numb shoulders. time for a new bed? ## hybrid: I wake up drenched in sweat every night, my bed feels like an oven ## pillow: I keep waking up with a stiff neck, the thing under my head is too flat",
  "sleeptech: my neighbours are noisy and dark winter mornings make it impossible to get up. any gadgets that help? ## foam+hybrid: my partner and I are moving into a bigger place || Exciting! || yeah, and our old bed is 12 years old and saggy. what should we replace it with? she tosses and turns a lot",
  "hybrid: I need a bed that stays cool, I run hot at night");
Q('video_editing',
  "pro: we're cutting a feature-length indie film and need serious colour correction tools ## shorts: I need subtitles on my tiktoks without typing them all by hand ## home: I want to turn all my holiday clips from Greece into a little movie for my parents",
  "screencast: I want to make how-to videos showing my software with my face in the corner ## shorts: I'm trying to grow my cooking channel on instagram || Nice! What kind of content? || quick 30 second recipes. editing them on my phone takes forever though, what should I use?",
  "pro: shooting a documentary with three cameras, I need software to sync the angles and grade the footage");
Q('email_marketing',
  "newsletter: I want to charge readers for my weekly essays. what platform should I use? ## commerce: people put stuff in their basket on my shop and leave. how do I nudge them to come back by email? ## outreach: my prospecting emails keep landing in spam. I need a better tool for sending follow-up chains",
  "transactional: my app's password reset messages aren't getting delivered reliably. what service should I use? ## newsletter: I've been writing a blog about urban birding for years || Sounds lovely! || thanks. I'd like to start sending posts straight to readers' inboxes every week. what should I use?",
  "*: what software do small businesses use to send marketing emails?");
Q('password_managers',
  "personal: I use the same password for everything and I know it's bad. is there an app that fixes this? ## family: how can my wife and I safely share the logins for streaming, utilities and the bank? ## business: when someone leaves our startup we have no idea which accounts they still have access to",
  "hardware: I want something physical to plug in so hackers can't get into my email even if they have my password ## personal: my instagram got hacked yesterday || Oh no, did you get it back? || yes, but I realised I reuse passwords everywhere. what should I use to fix that?",
  "family: my elderly mom keeps forgetting her passwords and calls me. is there a way I can manage them for her?");
Q('board_games',
  "party: need something for 10 people at a new year's eve get-together ## strategy: we've played Catan to death and want something meatier for game night ## coop: my kids fight when someone loses, I want something where we all win or lose together ## duel: my partner and I want a tabletop thing for just the two of us on weeknights",
  "party: hosting my birthday next Saturday, about 12 friends coming over || Fun! Any plans? || drinks and snacks, but I want something we can all play together that gets people laughing. ideas? ## strategy: looking for a long, crunchy game with lots of decisions and resource management");
Q('skincare',
  "sunscreen: I want something for my face so I don't burn, but the thick stuff makes me look like a ghost ## oily: my T-zone is greasy by noon and my pores look huge. what products should I use? ## dry: my face feels tight and flaky every winter, what should I put on it?",
  "retinol: I'm starting to notice wrinkles around my eyes at 35. what should I add to my routine? ## sunscreen: I'm going on a beach holiday to Mexico || Fun! When do you leave? || next week! I burn super easily, what should I pack for my face? ## dry: my skin gets red and itchy from almost every cream, I need something gentle");
Q('photography_courses',
  "basics: I bought a nice camera and only ever use the green auto setting. how can I learn to use it properly? ## editing: my pictures look flat straight out of the camera, I want a class on post-processing ## business: people keep asking me to shoot their weddings. any training on turning that into a real side business?",
  "phone: is there a class for taking better pictures with my phone for instagram? ## basics: my husband got me a camera for Christmas || What a lovely gift! || it is, but I'm totally lost with all the settings and dials. is there a course that teaches it from scratch?",
  "editing: I want to learn how to smooth skin and grade colours in portraits, any online masterclass?");
Q('3d_printing',
  "fdm: I want to make replacement parts and little gadgets at home. what machine should I start with? ## resin: I paint tabletop minis and want to make my own with crazy detail ## filament: my prints are stringy and I think my rolls of plastic soaked up moisture, I need better material",
  "scanner: I want to digitise an old car part so I can reproduce it ## fdm: my son is really into engineering || That's great! How old is he? || 13. I'm thinking of getting him a 3D printer for his birthday, something reliable for beginners. what do you suggest?",
  "resin: I want to print jewellery prototypes with very smooth surfaces");

// Unrelated: 'topic: text' or 'topic>trap: text' (trap = the category whose vocabulary the text shares), ' ## '-separated.
// Rule: no expressed need to acquire, choose, switch or subscribe to a product or service. Explaining how a
// technology works, homework, trivia, creative writing, translation, advice needing no purchase, and how-to
// questions about a tool the user already has (with no dissatisfaction) are unrelated, even with product words.
const UNRELATED: [string, string, string][] = [];
function U(...lines: string[]): void {
  for (const q of lines.join(' ## ').split(' ## ')) {
    const [topic, trap = ''] = q.slice(0, q.indexOf(': ')).split('>');
    UNRELATED.push([topic, trap, q.slice(q.indexOf(': ') + 2)]);
  }
}
U(
  `history: Who was the first emperor of Rome? ## history: Why did the Berlin Wall fall in 1989? ## history: When did the Ottoman Empire officially end? ## history: What caused the Bronze Age collapse? ## history>cycling: who invented the bicycle and when? ## history: What was the Marshall Plan?`,
  `geography: What's the capital of Peru? ## geography: Which river is the longest in Africa? ## geography: How many time zones does Russia have? ## geography>travel_booking: what's the time difference between London and Tokyo right now? ## math: Solve 3x + 7 = 22 and show the steps`,
  `math: What's the derivative of x^2 * sin(x)? ## math: Is 221 a prime number? ## math: Can you explain the Monty Hall problem? ## math: how do I compute the area of a triangle given the three side lengths`,
  `math>budgeting_apps: what is compound interest? explain with an example of 1000 at 5% for 3 years ## math>running_shoes: how do I calculate my pace per km if I ran 5k in 27 minutes? ## language>language_learning: Translate 'where is the train station' into French`,
  `language>language_learning: translate this into Spanish: the meeting was moved to Thursday ## language>language_learning: How do you say thank you in Korean? ## language: What's the difference between 'affect' and 'effect'? ## language: is it "fewer" or "less" for things like calories?`,
  `language: what does the idiom "break the ice" mean? ## creative: Write a short poem about the sea at night ## creative: Give me a haiku about autumn leaves ## creative>pet_supplies: suggest a funny name for my new goldfish ## creative: write a limerick about a cat who runs for mayor`,
  `creative: help me write a birthday message for my grandma turning 90 ## creative: give me a name for the villain in my fantasy novel ## science: Why is the sky blue? ## science: How do vaccines train the immune system? ## science: What's the difference between mitosis and meiosis?`,
  `science: how far away is the moon? ## science>hiking_gear: why is it colder at the top of a mountain if it is closer to the sun? ## science>headphones_audio: how do noise-cancelling headphones actually cancel sound, physically? ## science>cycling: how do gears on a bicycle work, physics-wise?`,
  `programming: Explain recursion with a simple example ## programming: What does "TypeError: Cannot read properties of undefined (reading 'map')" mean in React? ## programming: How do I reverse a linked list in Python? ## programming: what's the big-O of quicksort in the worst case?`,
  `programming: explain the difference between git rebase and git merge ## programming: my script fails with ModuleNotFoundError: No module named 'requests' even though I installed it ## programming>project_management: explain the project euler problem 1 and how to solve it`,
  `programming>running_shoes: what is a running total in SQL and how do I write one with a window function? ## programming>vpn_security: how does a VPN tunnel work at the packet level? ## programming>password_managers: what's the difference between hashing and encrypting passwords in a database?`,
  `programming>web_hosting: how does DNS resolution work when I type a URL into the browser? ## programming>email_marketing: what does SMTP stand for and what port does it use? ## programming>note_taking: how do I make a table in markdown?`,
  `programming>web_hosting: what does a 502 bad gateway error mean? ## philosophy: What did Kant mean by the categorical imperative? ## philosophy: Is free will compatible with determinism? ## philosophy: what's the ship of Theseus paradox? ## weather: Will it rain in Seattle tomorrow?`,
  `weather: what's the difference between weather and climate? ## cooking>meal_kits: can I use buttermilk instead of milk in pancakes? ## cooking>cookware: how long should I boil an egg for a jammy yolk? ## cooking>meal_kits: what's a good substitute for eggs in brownies?`,
  `cooking>cookware: why does my homemade bread come out so dense? ## cooking>coffee_equipment: what's the difference between a latte and a flat white? ## health>mattresses_sleep: how many hours of sleep does a teenager need? ## health>home_fitness: what muscles do squats work?`,
  `health>meal_kits: how many calories are in a banana? ## trivia: who won the 2010 World Cup? ## trivia: how many keys are on a standard piano? ## trivia: who painted Girl with a Pearl Earring? ## trivia: summarize the plot of Hamlet in three sentences`,
  `trivia>board_games: what are the rules for castling in chess? ## trivia: explain the offside rule in football ## finance>accounting_software: how is double-entry bookkeeping different from single-entry? this is for my exam ## finance>accounting_software: what does EBITDA stand for?`,
  `finance>budgeting_apps: what's the difference between a Roth and a traditional IRA? ## work>crm: explain what a CRM system is in one sentence for my business studies homework ## work>project_management: what is the critical path method in project scheduling? studying for my PM exam`,
  `work: how do I politely say no to a coworker who keeps asking for favours? ## work>project_management: easy project ideas for a 5th grade science fair? ## work: best pro tips for writing a cover letter ## work: smart ways to remember names at parties`,
  `tools>video_editing: how do I export a 1080p video from the editor I already use? the export button is greyed out ## tools>cameras: what's the difference between aperture and shutter speed? ## tools>3d_printing: what is the chemical difference between PLA and ABS plastic?`,
  `outdoors>hiking_gear: how do I tie a bowline knot? ## outdoors>gardening: what month should I plant garlic in zone 6? ## everyday>note_taking: how do I write a note to my kid's teacher about an absence? ## everyday: what's the best way to memorise the periodic table?`,
  `everyday>travel_booking: I'm visiting Paris next week || Lovely! What are you planning to see? || not sure yet. what's the story behind the Eiffel Tower? ## everyday>skincare: why does skin wrinkle in the bath?`,
  `everyday>pet_supplies: my cat keeps knocking things off tables || Cats do that a lot! || why do they do it though? is it instinct? ## everyday>language_learning: I'm learning German || That's great! How long have you been studying? || about a month. why are there three words for 'the'?`);

// ---------------------------------------------------------------------------------------------------------------
// Build queries, validate everything, write files.
// ---------------------------------------------------------------------------------------------------------------
type Msg = { role: 'user' | 'assistant'; content: string };
type Query = { id: string; messages: Msg[]; relevant: string[]; category: string; kind: 'commercial' | 'unrelated'; subniches?: string[]; topic?: string; trap?: string };
const toMessages = (text: string): Msg[] => text.split(' || ').map((content, i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', content: content.trim() }));
const catByKey = new Map(CATS.map((c) => [c.key, c]));
const fail = (msg: string): never => { throw new Error(`relevance set invalid: ${msg}`); };

const drafted: Omit<Query, 'id'>[] = [
  ...COMMERCIAL.map(([cat, subs, text]) => {
    const c = catByKey.get(cat) ?? fail(`unknown category ${cat}`);
    const tags = subs === '*' ? c.subs.map((s) => s.tag) : subs.split('+');
    for (const t of tags) if (!c.subs.some((s) => s.tag === t)) fail(`unknown sub-niche ${cat}/${t}`);
    const relevant = catalog.filter((p) => labels[p.id].category === cat && tags.includes(labels[p.id].subniche)).map((p) => p.id);
    return { messages: toMessages(text), relevant, category: cat, kind: 'commercial' as const, subniches: subs === '*' ? ['*'] : tags };
  }),
  ...UNRELATED.map(([topic, trap, text]) => {
    if (trap && !catByKey.has(trap)) fail(`unknown trap category ${trap}`);
    return { messages: toMessages(text), relevant: [], category: 'none', kind: 'unrelated' as const, topic, ...(trap ? { trap } : {}) };
  }),
];
const queries: Query[] = shuffle(drafted).map((q, i) => ({ id: `q${pad(i + 1, 3)}`, ...q }));

// Validation (counts, ids, references, shapes).
const ids = new Set(catalog.map((p) => p.id));
if (catalog.length < 1500) fail(`only ${catalog.length} products`);
if (ids.size !== catalog.length) fail('duplicate product ids');
if (new Set(catalog.map((p) => p.name)).size !== catalog.length) fail('duplicate product names');
if (new Set(catalog.map((p) => p.url)).size !== catalog.length) fail('duplicate product urls');
for (const c of CATS) {
  const n = catalog.filter((p) => p.category === c.key).length;
  if (n < 30) fail(`category ${c.key} has ${n} products`);
}
for (const p of catalog) {
  if (p.keywords.length < 3 || p.keywords.length > 6) fail(`${p.id} has ${p.keywords.length} keywords`);
  const sentences = p.description.split(/[.!?](?:\s|$)/).filter((x) => x.trim()).length;
  if (sentences < 1 || sentences > 2) fail(`${p.id} description has ${sentences} sentences`);
}
const commercial = queries.filter((q) => q.kind === 'commercial');
const unrelated = queries.filter((q) => q.kind === 'unrelated');
if (commercial.length < 150) fail(`only ${commercial.length} commercial queries`);
if (unrelated.length < 80) fail(`only ${unrelated.length} unrelated queries`);
if (new Set(queries.map((q) => q.id)).size !== queries.length) fail('duplicate query ids');
if (new Set(queries.map((q) => q.messages.map((m) => m.content).join('\n'))).size !== queries.length) fail('duplicate query text');
for (const q of queries) {
  if (q.messages[q.messages.length - 1].role !== 'user') fail(`${q.id} does not end with a user turn`);
  for (const r of q.relevant) if (!ids.has(r)) fail(`${q.id} references unknown product ${r}`);
  if (q.kind === 'commercial' && q.relevant.length === 0) fail(`${q.id} has no relevant products`);
  if (q.kind === 'unrelated' && q.relevant.length !== 0) fail(`${q.id} is unrelated but has relevant products`);
}

mkdirSync(OUT, { recursive: true });
writeFileSync(join(OUT, 'catalog.jsonl'), catalog.map((p) => JSON.stringify(p)).join('\n') + '\n');
writeFileSync(join(OUT, 'labels.json'), '{\n' + catalog.map((p) => `${JSON.stringify(p.id)}: ${JSON.stringify(labels[p.id])}`).join(',\n') + '\n}\n');
writeFileSync(join(OUT, 'queries.json'), '[\n' + queries.map((q) => JSON.stringify(q)).join(',\n') + '\n]\n');

const distractors = Object.values(labels).filter((l) => l.distractor).length;
const multi = queries.filter((q) => q.messages.length > 1);
console.log(`catalog.jsonl: ${catalog.length} products, ${CATS.length} categories, ${CATS.reduce((n, c) => n + c.subs.length, 0)} sub-niches, ` +
  `${distractors} distractors, ${advN} advertisers, ${campN} campaigns`);
console.log(`queries.json: ${queries.length} queries: ${commercial.length} commercial (${multi.filter((q) => q.kind === 'commercial').length} multi-turn, ` +
  `${commercial.filter((q) => q.subniches?.[0] === '*').length} whole-category), ${unrelated.length} unrelated ` +
  `(${unrelated.filter((q) => q.trap).length} share surface words with a category, ${multi.filter((q) => q.kind === 'unrelated').length} multi-turn)`);
console.log(`relevant per commercial query: min ${Math.min(...commercial.map((q) => q.relevant.length))}, max ${Math.max(...commercial.map((q) => q.relevant.length))}`);
