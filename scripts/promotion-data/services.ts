/**
 * The `services` promotion catalog: software, apps, subscriptions, courses and services, written by hand for
 * Vexrail (every brand, product and claim is invented). Read by scripts/make-promotion-catalogs.ts.
 *
 * ADVERTISERS: 'Brand; who the campaign is aimed at'. TYPES: 'type key; domain; label' followed by product
 * lines 'Brand | Product name | description | keyword, keyword | audience | pricing [| subtype]' (subtype, default
 * 'general', tells apart products of one type that answer different needs: car vs travel insurance comparison).
 */
import type { CatalogProduct, ProductLabel } from './retail-catalog';

const ADVERTISERS = `
Tasklyn; small teams that outgrew a shared spreadsheet of who-does-what
Orbitask; agencies juggling many client projects at once
Plankwise; construction and engineering project managers
Quillnote; students and writers who think in notes
Driftpad; people who capture ideas on the go and sort them later
Tunnelbright; travellers and remote workers on public Wi-Fi
Veilnet; privacy-minded households with many devices
Keyhaven; families and small offices tired of reused passwords
Vaultwise; people who want their passwords and 2FA codes in one place
Lingoleaf; adults learning a language in ten minutes a day
Parlaro; learners who want to speak with a real tutor
Forkful; busy households who want dinner planned and delivered
Greenbasket; plant-based eaters and people cooking more vegetables
Pulsefit; people working out at home or in the gym with a plan
Stridelab; runners training for their first race or a new best
Codeharbor; career changers learning to code
Learnsmith; professionals picking up skills in data, design and business
Ledgerly; freelancers and small businesses doing their own books
Tallybird; sole traders who hate paperwork
Mailcraft; shops and creators growing an email list
Sendmellow; non-profits and small businesses sending newsletters
Sitewright; small businesses that need a website this week
Pagefern; artists, photographers and portfolio owners
Lumaedit; photographers editing on desktop and phone
Pixelmint; social media creators who edit on their phones
Streamvale; households that want films and series in one subscription
Tunebloom; music listeners and podcast fans
Coverwise; people comparing insurance quotes before renewal
Policypal; travellers and pet owners who want cover without the jargon
Jetsparrow; travellers hunting for cheaper flights
Staynook; travellers booking hotels and apartments
Wanderkit; people planning trips with friends and family
Dealdock; sales teams tracking deals and follow-ups
Cloudcrate; families and teams storing and sharing files
Taxcompass; people filing their own tax return
Invoicely Bee; freelancers who need to get paid on time
Meetspan; remote teams meeting by video
Chatterbox Works; teams that want less email and more conversation
Proseline; writers, students and non-native speakers polishing their English
Signflow; businesses that send contracts and forms to sign
Hostmoor; developers and small sites that need reliable hosting
Shieldly; households protecting laptops and phones from malware
Readwell; commuters who listen to books
Careerforge; job seekers rewriting their CV
Slotwise; salons, tutors and consultants taking bookings
Payroo; small employers running payroll for the first time
Peoplepath; growing companies managing HR in one place
Surveyor Sky; researchers and marketers running surveys
Budgetbloom; couples and young earners getting on top of money
Homewatch; homeowners and renters who want a security system without a contract
Simsaver; people paying too much for their phone plan
Fibrecompare; households switching broadband
Roadrent; travellers renting cars at the airport
Domainly; people registering a name for their business or project
`;

const TYPES = `
= project_management_app; productivity; project management app
Tasklyn | Tasklyn Boards | Boards, lists and timelines for small teams, with recurring tasks, due-date reminders and a shared inbox for requests. Free for up to five people. | project management, task boards, team planning | teams | free plan
Tasklyn | Tasklyn Business | Everything in Tasklyn Boards plus workload view, time tracking per task and guest access for clients, billed per seat. | project management, time tracking, client portal | business | subscription
Orbitask | Orbitask Studio | Built for agencies: every client gets a workspace, briefs turn into tasks, and approvals happen on the deliverable itself instead of in email threads. | agency, client projects, approvals | business | subscription
Plankwise | Plankwise Site | Gantt charts, critical path and site diaries for construction teams, with offline mode for the tablet on site. | gantt, construction, scheduling | business | subscription
Quillnote | Quillnote Tasks | A simple to-do and project list that lives next to your notes; link any task to the page it came from. | to-do list, tasks, personal productivity | individuals | free plan
Orbitask | Orbitask Sprint | Backlogs, sprints and burndown charts for software teams, with issue import from spreadsheets and Git integrations. | agile, scrum, issue tracker | teams | subscription
= note_taking_app; productivity; note-taking app
Quillnote | Quillnote | Notes, outlines and backlinks that sync across phone, tablet and laptop, with handwriting search and offline access. | notes, note taking, second brain | individuals | free plan
Driftpad | Driftpad | Capture a thought in two taps, by voice or photo, then let Driftpad sort it into notebooks by topic. | quick notes, voice memos, ideas | individuals | free plan
Driftpad | Driftpad Meetings | Records and transcribes meetings, then writes a summary with action items assigned to the people who spoke. | meeting notes, transcription, summaries | teams | subscription
Learnsmith | Learnsmith Notebook | Lecture notes with built-in flashcards: highlight a line and it becomes a card for spaced repetition before the exam. | study notes, flashcards, students | students | subscription
Tasklyn | Tasklyn Docs | Shared documents and wikis for teams, with page templates for meeting minutes, onboarding and how-tos. | wiki, docs, knowledge base | teams | subscription
= vpn_service; security; VPN service
Tunnelbright | Tunnelbright VPN | Connects in a second on public Wi-Fi, has servers in 60 countries and does not keep activity logs, audited yearly. | vpn, privacy, public wifi | individuals | subscription
Tunnelbright | Tunnelbright Travel | A VPN plan for people abroad: watch your home country's catalogue and bank safely from hotel networks. | vpn, streaming abroad, travel | individuals | subscription
Veilnet | Veilnet Home | One subscription for ten devices, with a router app that covers smart TVs and consoles too. | vpn, family, router | families | subscription
Veilnet | Veilnet Teams | Private access to company tools for remote staff, with single sign-on and per-team rules. | business vpn, remote access, zero trust | business | subscription
Shieldly | Shieldly Secure VPN | Included with Shieldly antivirus or on its own: unlimited data and automatic protection on unknown networks. | vpn, security, wifi protection | individuals | subscription
= password_manager; security; password manager
Keyhaven | Keyhaven Family | Shared vaults for up to six people, emergency access for a trusted contact, and alerts when a saved password shows up in a breach. | password manager, family, breach alerts | families | subscription
Keyhaven | Keyhaven Teams | Admin console, shared folders per team and onboarding that gets staff off sticky notes in an afternoon. | password manager, business, shared vaults | business | subscription
Vaultwise | Vaultwise | Passwords, passkeys and two-factor codes in one app, with autofill in every browser and on your phone. | passwords, passkeys, 2fa | individuals | subscription
Vaultwise | Vaultwise Free | Unlimited passwords on one device type, free forever, with an encrypted export whenever you want to leave. | free password manager, autofill, vault | individuals | free plan
Shieldly | Shieldly Passwords | A password vault that comes with Shieldly security plans and imports everything your browser already saved. | password manager, browser import, security | individuals | subscription
= language_learning_app; education; language learning app
Lingoleaf | Lingoleaf | Ten-minute daily lessons in 24 languages, with speech recognition that corrects your pronunciation. | language learning, spanish, french | individuals | subscription | app
Lingoleaf | Lingoleaf Travel Phrases | Survival phrases for a trip in two weeks: ordering, directions and small talk, downloadable for offline use. | travel phrases, offline, language | individuals | one-time purchase | phrases
Parlaro | Parlaro Tutors | One-to-one video lessons with native-speaking tutors, booked by the half hour, from beginner to business level. | language tutor, conversation practice, online lessons | individuals | pay per lesson | tutor
Parlaro | Parlaro Groups | Small group conversation classes of four, twice a week, grouped by level and time zone. | group classes, speaking practice, language | individuals | subscription | group
Learnsmith | Learnsmith Japanese | A structured course from kana to JLPT N4, with graded reading and a weekly live review session. | japanese, jlpt, course | students | subscription | japanese
= meal_kit; food; meal kit delivery
Forkful | Forkful Classic | Pick three to five recipes a week; everything arrives measured with step-by-step cards, ready in 30 minutes. | meal kit, recipes, dinner delivery | families | subscription | kit
Forkful | Forkful Family | Kid-friendly recipes in four or six portions, with a weekly swap if someone hates mushrooms. | family meals, meal kit, kids | families | subscription | family
Greenbasket | Greenbasket | Plant-based meal boxes with seasonal vegetables from farms, flexible pause and no minimum term. | vegan, plant based, meal box | individuals | subscription | vegan
Greenbasket | Greenbasket Lean | High-protein, calorie-counted kits for people tracking macros, with nutrition on every card. | high protein, macros, healthy meals | individuals | subscription | protein
Forkful | Forkful Ready | Pre-cooked meals you heat in three minutes, for weeks when even a meal kit is too much. | ready meals, prepared food, delivery | individuals | subscription | ready
= fitness_app; fitness; fitness app
Pulsefit | Pulsefit | Guided strength and HIIT workouts with a coach's voice in your ear, adapted each week to what you managed last week. | workout app, strength training, hiit | individuals | subscription | strength
Pulsefit | Pulsefit Home | No-equipment and dumbbell-only programs for small living rooms, 20 to 40 minutes each. | home workouts, no equipment, dumbbells | individuals | subscription | home
Stridelab | Stridelab Run Coach | Training plans for 5K to marathon that adjust to your pace, with audio cues during runs. | running plan, marathon training, couch to 5k | individuals | subscription | running
Stridelab | Stridelab Cycle | Structured indoor and outdoor cycling plans that sync with smart trainers and bike computers. | cycling training, smart trainer, plans | individuals | subscription | cycling
Learnsmith | Learnsmith Yoga | Yoga and mobility classes for beginners, from ten-minute morning flows to hour-long sessions. | yoga, mobility, stretching | individuals | subscription | yoga
= coding_course; education; online coding course
Codeharbor | Codeharbor Web Developer Track | A 16-week part-time course in HTML, CSS, JavaScript and React, with mentor code reviews and a portfolio project. | coding bootcamp, web development, javascript | individuals | one-time purchase | web
Codeharbor | Codeharbor Python Foundations | Python from scratch at your own pace: exercises run in the browser, no setup, with a certificate at the end. | python, beginner, self-paced | individuals | subscription | python
Learnsmith | Learnsmith Data Analyst Path | SQL, spreadsheets, Python with pandas and dashboards, taught through real datasets over twelve weeks. | data analysis, sql, pandas | individuals | subscription | data
Codeharbor | Codeharbor Interview Prep | Algorithms and system design practice with mock interviews from engineers who hire. | coding interview, algorithms, leetcode | individuals | subscription | interview
Learnsmith | Learnsmith Cloud Certs | Video lessons and practice exams for the major cloud certifications. | cloud certification, aws, devops | individuals | subscription | cloud
= accounting_software; finance; accounting software
Ledgerly | Ledgerly | Bank feeds, receipt capture and VAT returns for small businesses, with an accountant login included. | bookkeeping, accounting, vat | business | subscription
Ledgerly | Ledgerly Solo | Simple books for freelancers: categorise transactions by swiping and see what to set aside for tax. | freelancer accounting, bookkeeping, self employed | individuals | subscription
Tallybird | Tallybird | Snap receipts, match them to bank transactions and produce year-end figures your accountant can use. | receipts, expenses, bookkeeping | individuals | subscription
Tallybird | Tallybird Stock | Inventory and cost of goods for small shops, linked to the books so margins are always current. | inventory accounting, small shop, margins | business | subscription
Payroo | Payroo Books | Bookkeeping that shares data with Payroo payroll, so wages land in the accounts without re-typing. | accounting, payroll integration, small business | business | subscription
= email_marketing; marketing; email marketing platform
Mailcraft | Mailcraft | Drag-and-drop newsletters, signup forms and automated welcome emails for online shops. | newsletter, email marketing, automation | business | free plan
Mailcraft | Mailcraft Commerce | Abandoned-cart and win-back emails that plug into your shop and show revenue per campaign. | abandoned cart, ecommerce email, automation | business | subscription
Sendmellow | Sendmellow | A calm, simple newsletter tool with discounted plans for charities and community groups. | newsletter, nonprofit, mailing list | business | free plan
Sendmellow | Sendmellow Creator | Paid newsletters and subscriber growth tools for writers, with a free tier up to 1,000 readers. | paid newsletter, creators, substack alternative | individuals | free plan
Surveyor Sky | Surveyor Sky Send | Transactional email API for apps: receipts, password resets and alerts with delivery logs. | transactional email, smtp, api | business | subscription
= website_builder; web; website builder
Sitewright | Sitewright | Pick a template, add your text and photos, and publish with a free domain for the first year; online booking and shop built in. | website builder, small business site, templates | business | subscription
Sitewright | Sitewright Shop | An online store with product pages, stock and card payments, ready to sell the same afternoon. | online store, ecommerce, shop builder | business | subscription
Pagefern | Pagefern | Portfolio sites with full-bleed galleries and client proofing for photographers and artists. | portfolio website, photography site, gallery | individuals | subscription
Pagefern | Pagefern Link | A single-page link site for your social bio, with a tip jar and a mailing-list signup. | link in bio, landing page, creators | individuals | free plan
Hostmoor | Hostmoor Sites | A builder and managed hosting in one for restaurants and local shops, with menus and opening hours that update on maps. | restaurant website, local business, hosting | business | subscription
= photo_editing; creative; photo editing software
Lumaedit | Lumaedit | Raw processing, layers and AI masking on desktop, with a catalogue that syncs edits to your phone. | photo editor, raw editing, lightroom alternative | individuals | subscription | desktop
Lumaedit | Lumaedit Perpetual | The desktop editor with a one-time licence and a year of updates, for people done with subscriptions. | photo editing, one time licence, raw | individuals | one-time purchase | desktop
Pixelmint | Pixelmint | Quick edits, filters and background removal on the phone, sized for every social platform. | mobile photo editor, filters, social media | individuals | free plan | mobile
Pixelmint | Pixelmint Pro | Batch edits, brand kits and unlimited background removal for small shops photographing products. | product photos, background removal, batch editing | business | subscription | mobile
Learnsmith | Learnsmith Photo Editing Course | A video course on colour grading and retouching, with raw files to edit along. | photo editing course, retouching, colour grading | individuals | one-time purchase | course
= video_streaming; entertainment; video streaming service
Streamvale | Streamvale | Films, series and documentaries in one plan, with four screens at once and downloads for flights. | streaming, movies, series | families | subscription | general
Streamvale | Streamvale Kids | A kids-only catalogue with parental controls and no adverts. | kids streaming, cartoons, family | families | subscription | kids
Streamvale | Streamvale Sports | Live football, tennis and motorsport with replays and multi-view. | live sports, streaming, football | individuals | subscription | sports
Tunebloom | Tunebloom Cinema | Classic and independent cinema, hand-picked, with a new festival film every week. | arthouse films, classics, indie cinema | individuals | subscription | arthouse
Readwell | Readwell Docs | Documentary streaming about science, history and nature, with companion reading lists. | documentaries, history, nature | individuals | subscription | documentary
= music_streaming; entertainment; music streaming service
Tunebloom | Tunebloom | 100 million songs, lossless audio and offline playlists, with a family plan for six. | music streaming, playlists, lossless | individuals | subscription
Tunebloom | Tunebloom Student | The full music plan at half price for students, verified once a year. | student music, discount, streaming | students | subscription
Readwell | Readwell Podcasts Plus | Ad-free podcasts and early episodes from the shows you follow. | podcasts, ad free, audio | individuals | subscription
Streamvale | Streamvale Music | Music videos, concerts and a radio mode, bundled with the video plan. | music videos, concerts, bundle | individuals | subscription
Wanderkit | Wanderkit Sounds | Ambient soundscapes and sleep stories for travel and quiet evenings. | sleep sounds, ambient, relaxation | individuals | subscription
= insurance_comparison; finance; insurance comparison
Coverwise | Coverwise Car | Compare car insurance quotes from 90 insurers in one form and see what each excess really costs. | car insurance, compare quotes, renewal | individuals | free to use | car
Coverwise | Coverwise Home | Buildings and contents quotes side by side, with a flag on policies that exclude accidental damage. | home insurance, contents insurance, compare | individuals | free to use | home
Policypal | Policypal Travel | Single-trip and annual travel insurance compared, including cover for winter sports and pre-booked trips. | travel insurance, annual cover, compare | individuals | free to use | travel
Policypal | Policypal Pets | Pet insurance compared by lifetime, time-limited and accident-only cover, with breed-specific pricing. | pet insurance, dog insurance, cat insurance | individuals | free to use | pet
Coverwise | Coverwise Van | Quotes for vans, couriers and tradespeople, including tools-in-transit cover. | van insurance, business insurance, compare | business | free to use | van
= flight_booking; travel; flight booking
Jetsparrow | Jetsparrow | Searches airlines and agents together, shows the price calendar for the whole month and alerts you when fares drop. | cheap flights, flight search, fare alerts | individuals | free to use
Jetsparrow | Jetsparrow Flex | Tickets with free date changes and a refund on cancellation for a small fee per booking. | flexible tickets, flights, refundable | individuals | per booking
Wanderkit | Wanderkit Flights | Group flight booking that splits the fare between friends and keeps everyone's details in one trip. | group flights, split payment, trips | individuals | per booking
Staynook | Staynook Flight + Hotel | Package deals that bundle flights and a room, often cheaper than booking each on its own. | flight and hotel, package holiday, deals | individuals | per booking
Roadrent | Roadrent Fly and Drive | Flights with a rental car waiting at arrival, on one booking. | fly drive, flights, car hire | individuals | per booking
= hotel_booking; travel; hotel booking
Staynook | Staynook | Hotels, guesthouses and apartments with free cancellation on most rooms and verified guest reviews. | hotel booking, apartments, free cancellation | individuals | per booking
Staynook | Staynook Business | Company travel with central billing, a travel policy and a 24/7 desk for when trains are cancelled. | business travel, corporate hotel, travel policy | business | subscription
Wanderkit | Wanderkit Stays | Holiday homes for groups, with a shared wishlist everyone can vote on. | holiday homes, group travel, cabins | families | per booking
Jetsparrow | Jetsparrow Hotels | Last-minute hotel deals shown on a map, bookable until midnight. | last minute hotels, deals, map | individuals | per booking
Roadrent | Roadrent Motels | Roadside motels and inns along your driving route, bookable from the car. | motels, road trip, inns | individuals | per booking
= crm; sales; CRM
Dealdock | Dealdock | A sales pipeline you drag deals through, with reminders to follow up and email tracking. | crm, sales pipeline, follow up | teams | subscription
Dealdock | Dealdock Solo | A lightweight CRM for freelancers and consultants: contacts, notes and a simple pipeline. | simple crm, freelancers, contacts | individuals | free plan
Orbitask | Orbitask Clients | Client relationship tracking for agencies, tied to projects and invoices. | client management, agency crm, projects | business | subscription
Mailcraft | Mailcraft CRM | Contacts, segments and deal stages built into your email marketing account. | crm, marketing, segments | business | subscription
Slotwise | Slotwise Clients | Client cards with visit history and notes for salons and therapists. | client records, salon, appointments | business | subscription
= cloud_storage; productivity; cloud storage
Cloudcrate | Cloudcrate | 2 TB of storage with automatic phone photo backup and a shared family folder. | cloud storage, photo backup, file sync | families | subscription
Cloudcrate | Cloudcrate Teams | Shared drives with permissions, version history and large file transfer links. | team storage, file sharing, version history | teams | subscription
Shieldly | Shieldly Backup | Encrypted backup of a whole computer, with restore to a new machine. | backup, encrypted, computer backup | individuals | subscription
Driftpad | Driftpad Drive | Free 15 GB for notes, scans and documents, searchable by the text inside them. | free storage, document scans, search | individuals | free plan
Pagefern | Pagefern Vault | Full-resolution photo archive for photographers, with client download links. | photo archive, raw storage, client delivery | individuals | subscription
= tax_filing; finance; tax filing software
Taxcompass | Taxcompass | Guided self-assessment with a checklist of what you can claim, filed straight to the tax office. | tax return, self assessment, filing | individuals | per return
Taxcompass | Taxcompass Plus | Tax filing with a review by a qualified adviser before you submit. | tax adviser, tax return review, filing | individuals | per return
Ledgerly | Ledgerly Tax | Year-end tax return for sole traders, filled from your Ledgerly books. | sole trader tax, self employed, filing | individuals | per return
Tallybird | Tallybird Tax Pack | Turns a year of receipts into a ready-to-file summary. | receipts, tax summary, year end | individuals | one-time purchase
Payroo | Payroo Year End | Year-end employer forms and filings generated from payroll. | year end payroll, employer filing, forms | business | per return
= invoicing_app; finance; invoicing app
Invoicely Bee | Invoicely Bee | Send branded invoices from your phone, accept card payments and send reminders automatically. | invoicing, get paid, payment reminders | individuals | free plan
Invoicely Bee | Invoicely Bee Time | Time tracking that turns hours into invoices, per client and per project. | time tracking, billable hours, invoices | individuals | subscription
Ledgerly | Ledgerly Invoices | Quotes and invoices that reconcile themselves when the payment arrives. | quotes, invoices, reconciliation | business | subscription
Tallybird | Tallybird Quotes | Quotes that clients accept online and that become invoices in one click. | quotes, estimates, tradespeople | business | subscription
Orbitask | Orbitask Billing | Retainers and milestone billing for agencies, linked to project budgets. | retainer billing, milestones, agency | business | subscription
= video_conferencing; communication; video conferencing
Meetspan | Meetspan | Video meetings with no download for guests, live captions and recordings that become searchable. | video calls, meetings, webinars | teams | free plan
Meetspan | Meetspan Webinars | Webinars for up to 1,000 attendees with registration, Q&A and replays. | webinars, online events, registration | business | subscription
Chatterbox Works | Chatterbox Huddles | Drop-in audio and video rooms inside team chat. | huddles, quick calls, team chat | teams | subscription
Parlaro | Parlaro Classroom | Video classroom for teachers and tutors with a whiteboard and breakout rooms. | online classroom, whiteboard, tutoring | business | subscription
Slotwise | Slotwise Video | Booked video consultations that start from the confirmation email. | video consultations, appointments, clients | business | subscription
= team_chat; communication; team chat app
Chatterbox Works | Chatterbox | Channels, threads and searchable history for teams leaving email behind. | team chat, messaging, channels | teams | free plan
Chatterbox Works | Chatterbox Enterprise | Team chat with retention rules, single sign-on and audit logs. | enterprise chat, compliance, sso | business | subscription
Tasklyn | Tasklyn Chat | Comments and chat on every task, so talk about work sits with the work. | task chat, team communication, comments | teams | free plan
Meetspan | Meetspan Chat | Persistent chat that continues after each video meeting. | meeting chat, messaging, remote teams | teams | free plan
Peoplepath | Peoplepath Frontline | Shift messaging and announcements for staff without a desk or a work email. | frontline staff, shift messaging, announcements | business | subscription
= writing_assistant; productivity; writing assistant
Proseline | Proseline | Grammar, spelling and tone suggestions in every browser and in your email. | grammar checker, spelling, writing | individuals | free plan
Proseline | Proseline Academic | Citation help, plagiarism check and formal tone for essays and theses. | essay checker, plagiarism, citations | students | subscription
Proseline | Proseline Business | House style and shared glossaries for teams writing to customers. | brand voice, style guide, teams | business | subscription
Quillnote | Quillnote Write | A distraction-free long-form editor with outline view and word goals. | writing app, novel, manuscript | individuals | subscription
Careerforge | Careerforge Letters | Cover letters tailored to each job ad, with phrasing checks. | cover letter, job application, writing | individuals | subscription
= e_signature; business; e-signature service
Signflow | Signflow | Send a PDF, drag in signature fields and get it back signed, with an audit trail. | e-signature, sign documents, contracts | business | free plan
Signflow | Signflow Forms | Online forms that become signed agreements, for onboarding clients and tenants. | online forms, agreements, onboarding | business | subscription
Ledgerly | Ledgerly Sign | Quotes and contracts signed from the same place you invoice. | sign quotes, contracts, invoices | business | subscription
Peoplepath | Peoplepath Offers | Offer letters and contracts sent and signed from the hiring pipeline. | offer letters, hr, contracts | business | subscription
Slotwise | Slotwise Consent | Consent and intake forms signed before the appointment. | intake forms, consent, clients | business | subscription
= web_hosting; web; web hosting
Hostmoor | Hostmoor Cloud | Managed servers for apps and bots, with one-click deploys, backups and a status page. | hosting, vps, deploy | individuals | subscription
Hostmoor | Hostmoor WordPress | Managed WordPress with daily backups, staging and updates handled for you. | wordpress hosting, managed hosting, backups | business | subscription
Domainly | Domainly Hosting | Shared hosting and email on your own domain, set up in minutes. | shared hosting, email hosting, domain | individuals | subscription
Sitewright | Sitewright Pro Hosting | Faster hosting for high-traffic Sitewright sites, with a CDN and uptime guarantee. | fast hosting, cdn, uptime | business | subscription
Cloudcrate | Cloudcrate Static | Static site hosting from a Git repository, free for personal projects. | static hosting, git deploy, free hosting | individuals | free plan
= antivirus; security; antivirus software
Shieldly | Shieldly Total | Antivirus for Windows, Mac, Android and iPhone with scam-link blocking and a VPN. | antivirus, malware protection, security suite | families | subscription
Shieldly | Shieldly Free Scan | A free scanner that cleans an infected computer once and tells you what it found. | malware removal, free scan, virus | individuals | free plan
Veilnet | Veilnet Guard | Blocks phishing sites and trackers on every device on your home network. | phishing protection, tracker blocking, home network | families | subscription
Keyhaven | Keyhaven Identity | Dark web monitoring and identity theft alerts for your email and cards. | identity protection, dark web monitoring, alerts | individuals | subscription
Homewatch | Homewatch Cyber | Parental controls and device security for the family router. | parental controls, router security, family | families | subscription
= audiobooks; entertainment; audiobook subscription
Readwell | Readwell | One audiobook credit a month, unlimited podcasts, and the books are yours to keep. | audiobooks, listening, books | individuals | subscription
Readwell | Readwell Unlimited | Unlimited listening from a catalogue of 200,000 titles, no credits. | unlimited audiobooks, library, listening | individuals | subscription
Learnsmith | Learnsmith Summaries | Fifteen-minute audio summaries of non-fiction bestsellers. | book summaries, non fiction, audio | individuals | subscription
Tunebloom | Tunebloom Books | Audiobooks included in the music plan, fifteen hours a month. | audiobooks, music bundle, listening | individuals | subscription
Streamvale | Streamvale Kids Stories | Read-along stories and audiobooks for children. | kids audiobooks, stories, bedtime | families | subscription
= resume_builder; careers; resume builder
Careerforge | Careerforge | CV templates that pass applicant tracking systems, with suggestions for each role. | resume builder, cv, job search | individuals | subscription
Careerforge | Careerforge Coach | A one-hour session with a recruiter to rewrite your CV and LinkedIn profile. | career coach, cv review, linkedin | individuals | one-time purchase
Proseline | Proseline Resume | Checks your CV for vague phrases and rewrites bullet points with numbers. | resume checker, cv writing, bullets | individuals | free plan
Pagefern | Pagefern CV Site | An online CV and portfolio page at your own address. | online resume, portfolio, personal site | individuals | subscription
Learnsmith | Learnsmith Career Switch | A course on changing careers: CV, networking and interviews. | career change, course, interviews | individuals | one-time purchase
= scheduling_app; business; appointment scheduling app
Slotwise | Slotwise | Online booking page with deposits, reminders by text and a waitlist for cancellations. | booking, appointments, scheduling | business | subscription
Slotwise | Slotwise Classes | Class timetables, passes and memberships for studios and gyms. | class booking, studio, memberships | business | subscription
Meetspan | Meetspan Scheduler | Share a link and let people pick a time that is free in your calendar. | meeting scheduler, calendar link, availability | individuals | free plan
Dealdock | Dealdock Meetings | Demo booking that routes leads to the right sales rep. | demo booking, lead routing, sales | teams | subscription
Parlaro | Parlaro Booking | Lesson booking and payments for independent tutors. | tutor booking, lessons, payments | individuals | subscription
= payroll_software; business; payroll software
Payroo | Payroo | Run payroll in minutes, with payslips, pension contributions and tax filings done automatically. | payroll, payslips, small employer | business | subscription
Payroo | Payroo Micro | Payroll for one to three employees, including a household nanny or cleaner. | small payroll, nanny payroll, employer | business | subscription
Peoplepath | Peoplepath Pay | Payroll linked to leave and timesheets, for companies of 20 to 500. | payroll, timesheets, hr | business | subscription
Ledgerly | Ledgerly Payroll | A payroll add-on for Ledgerly that posts wages to the books. | payroll add-on, bookkeeping, wages | business | subscription
Tallybird | Tallybird Contractors | Pay freelancers and contractors in 40 countries and collect their tax forms. | contractor payments, freelancers, international | business | subscription
= hr_software; business; HR software
Peoplepath | Peoplepath | Employee records, leave requests, onboarding checklists and reviews in one place. | hr software, leave, onboarding | business | subscription
Peoplepath | Peoplepath Hire | Job posts, applicant tracking and interview scheduling. | applicant tracking, hiring, recruitment | business | subscription
Payroo | Payroo People | Simple HR for small employers: contracts, holidays and documents. | small business hr, holidays, contracts | business | subscription
Chatterbox Works | Chatterbox Pulse | Anonymous team surveys and engagement scores. | employee engagement, pulse survey, feedback | business | subscription
Tasklyn | Tasklyn Onboarding | Onboarding checklists that assign tasks to IT, the manager and the new hire. | onboarding, checklists, new hire | teams | subscription
= survey_tool; marketing; survey tool
Surveyor Sky | Surveyor Sky | Surveys with logic, a panel of respondents to buy and charts that update live. | surveys, questionnaires, market research | business | free plan
Surveyor Sky | Surveyor Sky Academic | Survey software with ethics-friendly data storage and exports for SPSS and R. | academic survey, research, thesis | students | subscription
Sendmellow | Sendmellow Polls | Quick polls embedded in newsletters, results sent back to your list. | polls, newsletter feedback, quick survey | business | free plan
Chatterbox Works | Chatterbox Forms | Forms and polls inside team chat. | forms, polls, team feedback | teams | free plan
Sitewright | Sitewright Forms | Contact, order and feedback forms for websites. | contact forms, feedback, website forms | business | subscription
= budgeting_app; finance; budgeting app
Budgetbloom | Budgetbloom | Links your bank accounts, sorts spending into categories and warns you before a bill lands. | budgeting app, spending tracker, bills | individuals | subscription
Budgetbloom | Budgetbloom Couples | Shared budgets for couples, with "yours, mine, ours" accounts. | couples budget, shared finances, money | individuals | subscription
Budgetbloom | Budgetbloom Free | Monthly budget and savings goals, without bank linking. | free budget, savings goals, money tracker | individuals | free plan
Tallybird | Tallybird Home | Household expense tracking with receipt scanning. | household expenses, receipts, family budget | families | subscription
Ledgerly | Ledgerly Personal | Personal finance view of your freelance and household money together. | personal finance, freelancer, net worth | individuals | subscription
= home_security; home; home security system
Homewatch | Homewatch | Self-install alarm kit with door sensors, a camera and optional professional monitoring without a contract. | home security, alarm system, monitoring | families | subscription
Homewatch | Homewatch Renters | A no-drill security kit for flats that comes with you when you move. | renters security, apartment alarm, no drill | individuals | subscription
Homewatch | Homewatch Doorbell Plan | Video doorbell recording and package alerts in the cloud. | video doorbell, package alerts, cloud recording | individuals | subscription
Veilnet | Veilnet Cam Cloud | Cloud storage and motion alerts for any security camera. | camera cloud, motion alerts, cctv | individuals | subscription
Coverwise | Coverwise Home Cover Plus | Home insurance with a discount when you have monitored security. | home insurance, security discount, cover | individuals | free to use
= phone_plan_comparison; telecom; mobile phone plan comparison
Simsaver | Simsaver | Compares SIM-only plans by your actual usage and tells you when your contract ends. | sim only, phone plan, compare | individuals | free to use
Simsaver | Simsaver Family | Finds family bundles with shared data across every line. | family phone plan, shared data, compare | families | free to use
Simsaver | Simsaver Travel eSIM | Travel eSIMs for 120 countries, with data that starts when you land. | esim, roaming, travel data | individuals | per booking
Fibrecompare | Fibrecompare Bundles | Compare broadband and mobile bundles together. | broadband and mobile, bundle, compare | families | free to use
Tunnelbright | Tunnelbright eSIM | Travel data plans with a VPN included. | travel esim, data, vpn | individuals | per booking
= broadband_comparison; telecom; broadband comparison
Fibrecompare | Fibrecompare | Enter your postcode to see every broadband deal at your address with real speeds. | broadband deals, internet provider, compare | families | free to use
Fibrecompare | Fibrecompare Business | Business broadband and leased lines compared, with uptime guarantees. | business broadband, leased line, compare | business | free to use
Simsaver | Simsaver Home Internet | Home internet over 5G for places without fibre. | 5g home internet, broadband, no fibre | individuals | free to use
Homewatch | Homewatch Mesh Wi-Fi Plan | Mesh Wi-Fi rented monthly with setup, to fix dead spots. | mesh wifi, wifi dead spots, rental | families | subscription
Coverwise | Coverwise Switch | Switch broadband and energy in one go at renewal. | switch provider, broadband, energy | individuals | free to use
= car_rental; travel; car rental
Roadrent | Roadrent | Compare car hire from major brands and local firms, with free cancellation up to 48 hours. | car hire, car rental, compare | individuals | per booking
Roadrent | Roadrent Vans | Van hire by the hour for moving house. | van hire, moving, rental | individuals | per booking
Roadrent | Roadrent Campervans | Campervans and motorhomes for road trips, with kitchen kits included. | campervan hire, motorhome, road trip | families | per booking
Jetsparrow | Jetsparrow Cars | Airport car rental deals shown with your flight. | airport car rental, deals, travel | individuals | per booking
Wanderkit | Wanderkit Drive | Car sharing for groups on holiday, with shared fuel costs. | car sharing, group travel, rental | individuals | per booking
= domain_registration; web; domain registration
Domainly | Domainly | Register a domain with free privacy and DNS you can actually read. | domain name, register domain, dns | individuals | subscription
Domainly | Domainly Business Email | Professional email at your domain with spam filtering. | business email, custom domain email, mail | business | subscription
Hostmoor | Hostmoor Domains | Domains at cost price for Hostmoor customers. | domains, cheap domains, registrar | individuals | subscription
Sitewright | Sitewright Domains | Buy a domain and connect it to your site in one click. | custom domain, website, connect | business | subscription
Pagefern | Pagefern Names | Personal domains for portfolios. | personal domain, portfolio, name | individuals | subscription
`;

const slug = (s: string): string => s.toLowerCase().replace(/&/g, 'and').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
const pad = (n: number, w: number): string => String(n).padStart(w, '0');

export function buildServices(): { products: CatalogProduct[]; labels: ProductLabel[] } {
  const adv = new Map<string, { advertiser: string; campaign: string; context: string }>();
  ADVERTISERS.trim().split('\n').forEach((line, i) => {
    const [brand, audience] = line.split('; ');
    adv.set(brand, { advertiser: `sa${pad(i + 1, 3)}`, campaign: `sc${pad(i + 1, 3)}`, context: `${brand} campaign aimed at ${audience}.` });
  });
  const products: CatalogProduct[] = [];
  const labels: ProductLabel[] = [];
  let type = { key: '', domain: '', label: '' };
  for (const line of TYPES.trim().split('\n')) {
    if (line.startsWith('= ')) {
      const [key, domain, label] = line.slice(2).split('; ');
      type = { key, domain, label };
      continue;
    }
    const [brand, name, description, kw, audience, pricing, subtype] = line.split(' | ');
    const a = adv.get(brand);
    if (!a || !pricing) throw new Error(`services: bad line or unknown advertiser: ${line.slice(0, 60)}`);
    const id = `s${pad(products.length + 1, 4)}`;
    products.push({
      id, advertiser: a.advertiser, campaign: a.campaign, name, description, url: `https://${slug(brand)}.example/${slug(name)}`,
      keywords: kw.split(', '), category: type.domain, campaign_context: a.context,
    });
    labels.push({ id, type: type.key, attributes: { domain: type.domain, label: type.label, audience, pricing, subtype: subtype ?? 'general' } });
  }
  return { products, labels };
}
