"""Demo content: the seed campaigns and three placeholder campaigns, loaded by `flask --app wsgi demo load`."""

from __future__ import annotations

ORGANISATIONS = [
    {
        "slug": "sphere-foundation",
        "name": "Sphere Foundation",
        "website": None,
        "description": "Russian foundation supporting LGBT+ rights initiatives and activists.",
    },
    {
        "slug": "moscow-community-center",
        "name": "Moscow Community Center for LGBT+ Initiatives",
        "website": None,
        "description": "Community center for LGBT+ initiatives in Moscow.",
    },
    {
        "slug": "coming-out",
        "name": "Coming Out",
        "website": None,
        "description": "Russian LGBT+ initiative group based in St Petersburg.",
    },
    {
        "slug": "center-t",
        "name": "Center-T",
        "website": None,
        "description": "Initiative group supporting transgender people from Russia.",
    },
    {
        "slug": "amnesty-international-canada",
        "name": "Amnesty International Canada",
        "website": None,
        "description": "The Canadian section of Amnesty International, the global human rights movement.",
    },
    {
        "slug": "all-out",
        "name": "All Out",
        "website": None,
        "description": "International non-profit movement campaigning for the rights of LGBT+ people.",
    },
]

_SEED_RELATED = [
    "russia-oppose-lgbt-criminalization",
    "russia-stop-lgbtqqia-criminalization",
    "no-more-closed-doors-russian-transgender-people",
]

_DEMO_MARKER = (
    "*Demo content: this campaign is a placeholder for trying out the site; "
    "its text is not an actual campaign.*"
)

_DEMO_DELIVERY_NOTE = (
    "Demo content: signatures on this placeholder campaign are not delivered to anyone. "
    "Only your first name, last name and country would be included."
)

CAMPAIGNS = [
    # Seed 000: Sphere Foundation, joined by the Moscow community center and Coming Out.
    {
        "slug": "russia-oppose-lgbt-criminalization",
        "title": "Russia: Oppose LGBT+ Community Criminalization",
        "lead": (
            "Russia made up an ‘international LGBT+ extremist movement’ — only to criminalize the entire "
            "queer community in the country. Sign to support the Russian LGBT+ community."
        ),
        "body": """\
In yet another troubling move against human rights, the Russian Ministry of Justice has initiated proceedings to declare the "international public LGBT movement" as extremist. This means they want to ban all LGBT+ activities in Russia and label them as dangerous. It's a scary situation that got even worse after Russia already made rules against informing on LGBT+ lives in public, online, or through media.

In the midst of the full-scale invasion in Ukraine, just a day after an unprecedented verdict of 7 years in prison camp for a peaceful protester Aleksandra Skochilenko, pro-regime propagandists make LGBT+ people public enemies. In support of the Ministry’s actions, within one day several federal TV-channels showed segments smearing the LGBT+ community as well as divulging sensitive information about queer activists. The government appears intent on making an example out of all LGBT+ people in Russia to deepen the atmosphere of fear for the rest of the public, and muzzle critics of the regime.

The impact of this lawsuit is deeply distressing. If successful, LGBT+ organizations and activists in Russia could be deemed extremist, subjecting them to severe penalties, including imprisonment. This extends to a ban on working with, volunteering for, or being associated with any LGBT+ initiative. Additionally, the penalties for disseminating information about LGBT+ issues and displaying symbols associated with the queer community, such as the rainbow flag, may be tightened, leading to administrative records and fines, and even criminal liability for those with previous records related to such symbols.

The consequences of this extremist label go beyond legal restrictions. It would leave any LGBT+ activist in Russia vulnerable to criminal prosecution and persecution. Such a move not only discriminates against LGBT+ individuals but also targets organizations that strive to protect their rights and well-being.

The urgency of this matter cannot be overstated. The Supreme Court of Russia is set to examine the motion on November 30. Without immediate international attention and action, the rights and safety of LGBT+ individuals in Russia will be further jeopardized.

Your signature is crucial. By signing this petition, you're joining a global outcry against this unjust proposal. You're standing in solidarity with the LGBT+ community in Russia and affirming that human rights should not be subject to governmental oppression.""",
        "quote": "",
        "quote_attribution": "",
        "petition_heading": "",
        "targets": (
            "Ministries of Foreign Affairs of EU member states; UN High Commissioner for Human Rights, "
            "Volker Türk; EU commissioners: Ursula von der Leyen, Helena Dalli, Jutta Urpilainen; "
            "European Civil Protection and Humanitarian Aid Operations, Janez Lenarčič"
        ),
        "petition_text": """\
Due to the recent drastic backslide of the LGBT+ rights situation in Russia, the Ministry of Justice’s motion should be seen as a further step in the same direction towards pushing LGBT+ people to remain silent and stop all the attempts to defend their rights. By targeting the LGBT+ rights initiatives, the Russia authorities are targeting the entire community and their needs in legal, psychological and other forms of support in order to be able to have decent lives. This means that the Russian Federation is a country with an exceptionally high risk for any LGBT+ person, especially for those who keep working with the topic on the ground.

Over the recent years the Russian Federation has repeatedly demonstrated its escalating disregard for international condamnations when it comes to human rights issues. In this context we do not see such measures as effective in order to protect the lives and safety of Russian multinational LGBT+ community members.""",
        "demands": [
            "Therefore, we urge states that are signatories of international human rights conventions, both in "
            "Europe and worldwide, to ensure a wider possibility for Russian LGBT+ people and LGBT+ rights "
            "defenders to obtain visas or other travel documents. A possibility to leave the country will "
            "become a lifeline for those denied basic human rights, and a powerful instrument for those who "
            "keep on the fight against discrimination and are remaining in Russia in a very high-risk "
            "environment.",
        ],
        "petition_closing": "",
        "goal": 60000,
        "goal_fixed": False,
        "offline_count": 0,
        "status": "open",
        "delivery_note": (
            "Signatures will be delivered to the addressees of this petition. "
            "Only your first name, last name and country will be included."
        ),
        "organisation": "sphere-foundation",
        "partners": ["moscow-community-center", "coming-out"],
        "started_by": "",
        "language": "en",
        "updates": [
            {
                "published_on": "2023-11-30",
                "title": "",
                "body": (
                    'Today, the Russian Supreme Court has ruled the "international public LGBT+ movement" as '
                    "extremist. The secretive nature of the court proceedings leaves many details unclear, "
                    "including the exact arguments presented by the Ministry of Justice and the specific "
                    "individuals or groups that will be affected by this ruling. Your support is crucial in "
                    "these trying times."
                ),
            },
        ],
        "related": [
            "russia-stop-lgbtqqia-criminalization",
            "no-more-closed-doors-russian-transgender-people",
        ],
        "demo": False,
    },
    # Seed 002: Amnesty International Canada.
    {
        "slug": "russia-stop-lgbtqqia-criminalization",
        "title": "Russia: Stop Criminalization of LGBTQQIA+ People",
        "lead": (
            "The LGBTQQIA+ community is under threat in Russia. On November 30, 2023, the Supreme Court of "
            "Russia banned “the international public LGBT movement” as “extremist”. This has effectively "
            "outlawed any public advocacy or association with the LGBTQQIA+ community. Russia must urgently "
            "review this ruling to prevent widespread persecution of LGBTQQIA+ people."
        ),
        "body": """\
The Supreme Court’s ruling recognizes as “extremist” an undefined “international public LGBT movement.” The ruling enables the persecution of those involved in LGBTQQIA+ rights-related activities or anyone with a known, or assumed, association with the LGBTQQIA+ community under anti-extremism legislation.

People found guilty of committing “extremist” activities may face up to 10 years in prison, employment restrictions and restrictions on other rights. Even displaying a Pride flag or other LGBTQQIA+ symbols can lead to an arrest and detention for up to 15 days, or 4 years for a repeated violation.

Since the ban came into force in January 2024, Russian authorities have launched at least 12 criminal cases, conducted raids on LGBTQQIA+ venues, issued administrative fines and short-term detentions for displaying rainbow-themed symbols and forced the closure of LGBTQQIA+ advocacy groups.

We must show solidarity with the Russian LGBTQQIA+ community and demand an end to these oppressive actions to safeguard the principles of equality, freedom and justice for all. No-one should be persecuted for who they love.

## Recent arrests target book publishers

On May 14, 2025, Russian security forces detained at least 10 individuals in Moscow as part of a criminal investigation into alleged “involvement in the activities of an extremist organization,” “participation in the activities” of such an organization, and “organizing its work using official position” (Article 282.2(1.1), (2), (3) of the Criminal Code) for publishing LGBTI-themed books. At least 10 individuals were taken in for questioning, including Anatoly Norovyatkin, distribution director at EKSMO, as well as Popcorn Books co-founder Dmitry Protopopov and former sales director Pavel Ivanov. On 15 May, three people were formally charged, their names are not yet disclosed. If convicted under these charges, they could face prison sentences of up to 12 years.

According to the lawyer, the case is based on the alleged distribution of over 900 copies of ten LGBTI-themed titles, none of which have been officially banned or labelled “extremist.” Among the books named in the case is The Summer in a Pioneer Tie (translated in English as Pioneer Summer), a bestselling novel by Elena Malisova and Katerina Silvanova depicting a same-sex romance between two Soviet teenagers. The authors were arbitrarily designated “foreign agents” by the Ministry of Justice in February 2024. Other titles include Alice Oseman’s Heartstopper, Benjamin Alire Sáenz’s Aristotle and Dante Discover the Secrets of the Universe, and Becky Albertalli’s Leah on the Offbeat and Love, Creekwood – all published by Popcorn Books between 2019 and 2022.""",
        "quote": (
            "One thing is clear: no amount of bans, arrests or prosecutions will erase the existence of LGBTI "
            "people in Russia, or anywhere else...Love and knowledge will always endure over hatred and "
            "repression."
        ),
        "quote_attribution": "Natalia Zviagina, Amnesty International’s Russia Director",
        "petition_heading": "STOP CRIMINALIZATION OF LGBTQQIA+ PEOPLE IN RUSSIA",
        "targets": "Governemnt of the Russia Federation",
        "petition_text": """\
In November 2023, the Supreme Court of Russia banned “the international public LGBT movement” as “extremist”. This ruling appeared to target and criminalize any activism in defence of the human rights of LGBTQQIA+ people or even any public association with the LGBTQQIA+ community. Since the ban came into effect in January 2024, authorities have launched criminal cases, conducted raids, issued administrative fines, carried out short-term detentions for displaying rainbow-themed symbols, and forced the closure of advocacy groups.

These are grave violations of the rights to freedom of association, expression, and peaceful assembly, as well as the right to be free from discrimination.

We call on you to:""",
        "demands": [
            "Immediately review the Supreme Court decision.",
            "End persecution of the LGBTQQIA+ community in Russia.",
        ],
        "petition_closing": "",
        "goal": 25000,
        "goal_fixed": False,
        "offline_count": 0,
        "status": "open",
        "delivery_note": (
            "Signatures collected on this petition will be delivered to the embassy of the Russian Federation "
            "in Canada later in 2025. Only your name and country will be included. Other details you provide "
            "will be processed in line with Amnesty International Canada’s Privacy Policy."
        ),
        "organisation": "amnesty-international-canada",
        "partners": [],
        "started_by": "",
        "language": "en",
        "updates": [],
        "related": [
            "russia-oppose-lgbt-criminalization",
            "no-more-closed-doors-russian-transgender-people",
        ],
        "demo": False,
    },
    # Seed 004: run by Coming Out and Center-T, started by Coming Out LGBT group (hosted on All Out's site).
    {
        "slug": "no-more-closed-doors-russian-transgender-people",
        "title": "No More Closed Doors for Russian Transgender People",
        "lead": (
            "Severely impacting transgender lives, Russia's new law stops trans people from changing gender "
            "markers, getting affirming surgery, or accessing hormones. The EU must urgently offer asylum, "
            "upholding trans rights in Russia."
        ),
        "body": """\
Pressure on LGBTQ+ communities in Russia has persisted for decades. Institutionalization began in 2013 with the adoption of a law banning “LGBT-propaganda” among minors. This law prohibited the distribution of information mentioning non-heterosexual relationships or non-cisgender identities that could be accessible to minors. In practice, this law was used to exert pressure on activists and civil society organizations.

At the end of 2022, new legislation on “LGBT-propaganda” was enacted. Since then, the distribution of information about or mentioning non-heterosexual relationships or non-cisgender identities has been banned throughout Russia — regardless of the intended audience. Now, any positive discussion of LGBTQ+ issues in Russia is illegal and can result in substantial fines for individuals or legal entities.

In July 2023, the State Duma passed another law banning all aspects of legal and medical transgender transitions in Russia. This legislation renders it impossible for individuals to legally change their gender marker in documents, pursue gender-affirming surgeries, or access hormonal therapy. Furthermore, for Russian authorities, banning transgender transitions is a "question of national security". The only "treatment" suggested for transgender individuals is "healing of psychiatric problems that led to transgender identity", akin to "conversion therapy".

Combined with the relentless transphobic rhetoric of Russian politicians and authorities, these developments suggest that Russia is an unsafe environment for transgender individuals. Those who choose to leave the country because of their identity should have the opportunity to find refuge in foreign nations where their lives and health will not be endangered.""",
        "quote": "",
        "quote_attribution": "",
        "petition_heading": "",
        "targets": (
            "EU commissioners: Ursula von der Leyen, Helena Dalli, Jutta Urpilainen; European Civil Protection "
            "and Humanitarian Aid Operations, Janez Lenarčič; UN High Commissioner for Human Rights, Volker "
            "Türk; Chairs of EU Parliament committees: David McAllister, Udo Bullman, Robert Biedroń"
        ),
        "petition_text": "We urge you to:",
        "demands": [
            "Adopt necessary legislative initiatives at the European Union level and in specific countries to "
            "allow Russian transgender individuals to seek asylum based on their gender identity.",
            "Establish a dialogue with Russian trans-initiatives to better respond to changing circumstances "
            "and understand the reality of transgender individuals in Russia.",
        ],
        "petition_closing": (
            "Not every transgender person in Russia wishes to leave their homeland. However, this opportunity "
            "could potentially change the lives of dozens, if not hundreds, of individuals and empower "
            "thousands more."
        ),
        "goal": 10000,
        "goal_fixed": False,
        "offline_count": 7440,
        "status": "open",
        "delivery_note": (
            "Signatures will be delivered to the addressees of this petition. "
            "Only your first name, last name and country will be included."
        ),
        "organisation": "coming-out",
        "partners": ["center-t"],
        "started_by": "Coming Out LGBT group",
        "language": "en",
        "updates": [],
        "related": [
            "iran-save-sareh-and-elham",
            "fifa-tell-qatar-love-is-not-a-crime",
            "abolish-the-religious-discrimination-bill",
        ],
        "demo": False,
    },
    # Placeholders for the three campaigns seed 004 lists under "More ways to take action today!".
    {
        "slug": "iran-save-sareh-and-elham",
        "title": "Iran: Save Sareh and Elham's lives",
        "lead": "Add your name to ask that Sareh's and Elham's lives be protected. (Demo content.)",
        "body": f"""\
{_DEMO_MARKER}

No one should have their life put at risk because of who they are or whom they love.

Signing adds your voice to a call for their lives, safety and rights to be protected.""",
        "quote": "",
        "quote_attribution": "",
        "petition_heading": "",
        "targets": "Authorities of the Islamic Republic of Iran",
        "petition_text": "We urge you to:",
        "demands": [
            "Protect the lives of Sareh and Elham.",
            "Respect their human rights, including the right to a fair trial.",
        ],
        "petition_closing": "",
        "goal": 50000,
        "goal_fixed": False,
        "offline_count": 0,
        "status": "open",
        "delivery_note": _DEMO_DELIVERY_NOTE,
        "organisation": "all-out",
        "partners": [],
        "started_by": "",
        "language": "en",
        "updates": [],
        "related": list(_SEED_RELATED),
        "demo": True,
    },
    {
        "slug": "fifa-tell-qatar-love-is-not-a-crime",
        "title": "FIFA: Tell Qatar Love Is Not A Crime",
        "lead": "Ask FIFA to speak up for LGBT+ people and tell Qatar that love is not a crime. (Demo content.)",
        "body": f"""\
{_DEMO_MARKER}

Major sporting events bring people together from all over the world, and everyone should be able to take part safely and as themselves.

Signing asks FIFA to use its voice to stand up for the rights of LGBT+ people.""",
        "quote": "",
        "quote_attribution": "",
        "petition_heading": "",
        "targets": "FIFA",
        "petition_text": "We urge you to:",
        "demands": [
            "Tell Qatar that love is not a crime and speak up for the rights of LGBT+ people.",
        ],
        "petition_closing": "",
        "goal": 50000,
        "goal_fixed": False,
        "offline_count": 0,
        "status": "open",
        "delivery_note": _DEMO_DELIVERY_NOTE,
        "organisation": "all-out",
        "partners": [],
        "started_by": "",
        "language": "en",
        "updates": [],
        "related": list(_SEED_RELATED),
        "demo": True,
    },
    {
        "slug": "abolish-the-religious-discrimination-bill",
        "title": "Abolish The Religious Discrimination Bill",
        "lead": "Call on lawmakers to abolish the Religious Discrimination Bill. (Demo content.)",
        "body": f"""\
{_DEMO_MARKER}

Laws should protect everyone equally, and no one should lose protection from discrimination because of who they are or whom they love.

Signing adds your voice to the call to kill the bill (#killthebill).""",
        "quote": "",
        "quote_attribution": "",
        "petition_heading": "",
        "targets": "Lawmakers considering the Religious Discrimination Bill",
        "petition_text": "We urge you to:",
        "demands": [
            "Abolish the Religious Discrimination Bill.",
        ],
        "petition_closing": "",
        "goal": 50000,
        "goal_fixed": False,
        "offline_count": 0,
        "status": "open",
        "delivery_note": _DEMO_DELIVERY_NOTE,
        "organisation": "all-out",
        "partners": [],
        "started_by": "",
        "language": "en",
        "updates": [],
        "related": list(_SEED_RELATED),
        "demo": True,
    },
]
