"""Hand-written prompts of the sample dataset, by kind. Pure data.

Parallelizable ones use shapes that a structural heuristic can see (numbered lists, "N
things", "these sentences:"); negatives are single tasks; edge cases exercise the rules.
Each entry is (language, prompt).
"""

from __future__ import annotations

Entry = tuple[str, str]

_THINGS = (
    "slogans",
    "names",
    "taglines",
    "blog post titles",
    "interview questions",
    "tweet ideas",
    "Instagram captions",
    "jokes",
)
_TOPICS = (
    "a coffee shop",
    "an eco-friendly water bottle",
    "a bicycle repair shop",
    "a yoga studio",
    "a language-learning app",
    "a neighbourhood bakery",
)
_ASKS = (
    "Give me {n} {thing} for {topic}.",
    "Write {n} {thing} for {topic}",
    "Suggest {n} {thing} for {topic}, please.",
    "Can you come up with {n} {thing} for {topic}?",
)


def _repeated_english() -> list[Entry]:
    out = []
    for i, thing in enumerate(_THINGS):
        for j, topic in enumerate(_TOPICS):
            n = (3, 5, 10)[(i + j) % 3]
            for k in (0, 2):
                ask = _ASKS[(i + j + k) % len(_ASKS)]
                out.append(("English", ask.format(n=n + k, thing=thing, topic=topic)))
    out += [
        ("English", "Give me 5 healthy breakfast ideas"),
        ("English", "List 7 fun facts about octopuses."),
        ("English", "Generate 4 different opening lines for a mystery novel set in Lisbon."),
        ("English", "I need 6 creative team names for a company hackathon."),
    ]
    return out


REPEATED: list[Entry] = [
    *_repeated_english(),
    ("Chinese", "给我写5个关于咖啡店的广告语"),
    ("Chinese", "请列出10个适合小学生的科学实验。"),
    ("Spanish", "Dame 5 ideas de nombres para una panadería artesanal."),
    ("Spanish", "Escribe 3 eslóganes para una tienda de bicicletas."),
    ("French", "Donne-moi 5 idées de cadeaux pour un collègue qui part à la retraite."),
    ("French", "Propose 4 titres accrocheurs pour un article sur le télétravail."),
    ("German", "Nenne mir 5 Ideen für einen Kindergeburtstag im Winter."),
    ("German", "Schreibe 3 Werbesprüche für ein vegetarisches Restaurant."),
    ("Russian", "Придумай 5 названий для кофейни у моря."),
    ("Russian", "Напиши 3 слогана для школы программирования."),
    ("Portuguese", "Me dê 5 ideias de nomes para uma loja de plantas."),
    ("Portuguese", "Escreva 4 legendas para fotos de viagem na praia."),
    ("Japanese", "カフェのキャッチコピーを5つ考えてください。"),
    ("Japanese", "週末に楽しめる趣味のアイデアを3つ教えてください。"),
    ("Italian", "Dammi 5 idee per una cena romantica a casa."),
    ("Korean", "카페 이름 아이디어 5개를 추천해 주세요."),
]

_PASSAGES = (
    (
        "The Amazon rainforest produces about a fifth of the oxygen made by land plants. It "
        "spans nine countries, and Brazil holds roughly sixty percent of it. Deforestation "
        "rose sharply in the 2010s because of cattle ranching and soy farming.",
        (
            "How much of the land plants' oxygen does the rainforest produce?",
            "How many countries does it span?",
            "Which country holds the largest share?",
            "What caused deforestation to rise?",
        ),
    ),
    (
        "Marie Curie moved from Warsaw to Paris in 1891 to study physics at the Sorbonne. "
        "With her husband Pierre she discovered polonium and radium, and she became the "
        "first person to win Nobel Prizes in two different sciences.",
        (
            "Where did Marie Curie move in 1891?",
            "Which elements did she discover?",
            "Why is her Nobel record unusual?",
        ),
    ),
    (
        "Our company will move to a four-day work week starting in March. Employees will work "
        "nine hours a day from Monday to Thursday. Customer support will keep a rotating "
        "Friday shift, and salaries will not change.",
        (
            "When does the new schedule start?",
            "How many hours a day will employees work?",
            "Who still works on Fridays?",
            "Will salaries change?",
        ),
    ),
    (
        "The James Webb Space Telescope launched on 25 December 2021 and observes mainly in "
        "the infrared. Its 6.5-metre mirror is made of eighteen gold-coated hexagonal "
        "segments, and it orbits the Sun near the second Lagrange point.",
        (
            "When did the telescope launch?",
            "In which part of the spectrum does it observe?",
            "What is its mirror made of?",
        ),
    ),
)


def _reading_english() -> list[Entry]:
    out = []
    for passage, questions in _PASSAGES:
        numbered = "\n".join(f"{i}. {q}" for i, q in enumerate(questions, 1))
        out.append(
            ("English", f"Read the passage and answer the questions.\n\n{passage}\n\n{numbered}")
        )
        out.append(
            (
                "English",
                f"Passage:\n{passage}\n\nBased on the passage above, answer:\n"
                + "\n".join(f"Q{i}: {q}" for i, q in enumerate(questions[:3], 1)),
            )
        )
    return out


READING: list[Entry] = [
    *_reading_english(),
    (
        "Spanish",
        "Lee el texto y responde las preguntas.\n\nTexto: La tortilla de patatas es un plato "
        "típico de España. Se prepara con huevos, patatas y, a veces, cebolla.\n\n"
        "1. ¿De qué país es típico el plato?\n2. ¿Cuáles son sus ingredientes?\n"
        "3. ¿Qué ingrediente es opcional?",
    ),
    (
        "German",
        "Lies den Text und beantworte die Fragen.\n\nText: Der Rhein ist etwa 1.230 Kilometer "
        "lang und fließt durch sechs Länder. Er mündet in die Nordsee.\n\n1. Wie lang ist der "
        "Rhein?\n2. Durch wie viele Länder fließt er?\n3. Wo mündet er?",
    ),
    (
        "Chinese",
        "阅读下面的短文并回答问题。\n\n短文：长城全长两万多公里，始建于春秋战国时期，"
        "明朝时进行了大规模修建。\n\n1. 长城全长多少？\n2. 长城始建于什么时期？\n"
        "3. 哪个朝代进行了大规模修建？",
    ),
    (
        "French",
        "Lis le texte et réponds aux questions.\n\nTexte : La tour Eiffel a été construite "
        "pour l'Exposition universelle de 1889. Elle mesure 330 mètres.\n\n1. Pour quel "
        "événement a-t-elle été construite ?\n2. Quelle est sa hauteur ?",
    ),
]

_KEYWORD_TEXTS = (
    (
        "Solar panels convert sunlight into electricity using photovoltaic cells.",
        "Remote work has changed how companies hire and manage teams.",
        "Antibiotic resistance is a growing threat to global public health.",
    ),
    (
        "The central bank raised interest rates to slow inflation.",
        "Electric scooters are popular for short trips in crowded cities.",
        "Bees pollinate many of the crops humans rely on for food.",
        "Quantum computers use qubits that can hold several states at once.",
    ),
    (
        "Our new vegan menu features lentil burgers and cashew cheese.",
        "The marathon route passes the river, the old town and the stadium.",
    ),
)


def _keywords_english() -> list[Entry]:
    out = []
    asks = (
        "Extract 3 keywords from each of the following texts:",
        "Extract the main keywords from each sentence below:",
        "List the key terms in each of these abstracts:",
    )
    for texts in _KEYWORD_TEXTS:
        for ask in asks:
            body = "\n".join(f"{k}. {t}" for k, t in enumerate(texts, 1))
            out.append(("English", f"{ask}\n{body}"))
    return out


KEYWORDS: list[Entry] = [
    *_keywords_english(),
    (
        "French",
        "Extrais les mots-clés de chaque phrase :\n1. Le vélo électrique séduit les citadins.\n"
        "2. La cuisine japonaise est de plus en plus populaire en France.",
    ),
    (
        "German",
        "Extrahiere die Schlüsselwörter aus jedem Satz:\n1. Die Bahn erhöht die Ticketpreise.\n"
        "2. Wärmepumpen sparen Heizkosten.\n3. Der Wald leidet unter der Trockenheit.",
    ),
    (
        "Chinese",
        "请从下面每句话中提取关键词：\n1. 新能源汽车销量持续增长。\n2. 人工智能正在改变医疗行业。",
    ),
]

_NER_SETS = (
    (
        "Barack Obama visited Berlin in 2013 to meet Angela Merkel.",
        "Apple opened a new office in Austin, Texas.",
        "Lionel Messi signed with Inter Miami in 2023.",
    ),
    (
        "The United Nations held its climate summit in Dubai.",
        "Elon Musk announced that Tesla will build a factory in Mexico.",
    ),
    (
        "Serena Williams won the US Open in New York.",
        "Microsoft acquired GitHub for 7.5 billion dollars.",
        "The Louvre in Paris welcomed nine million visitors.",
        "Toyota and Panasonic will build batteries in Japan.",
    ),
)


def _ner_english() -> list[Entry]:
    asks = (
        "Identify all named entities (person, organization, location) in each sentence:",
        "Find the people, companies and places mentioned in these sentences:",
        "Perform named entity recognition on each of the following sentences and label "
        "each entity as PERSON, ORG or LOC:",
    )
    out = []
    for sents in _NER_SETS:
        for ask in asks:
            body = "\n".join(f"{k}. {s}" for k, s in enumerate(sents, 1))
            out.append(("English", f"{ask}\n{body}"))
    return out


NER: list[Entry] = [
    *_ner_english(),
    (
        "Chinese",
        "识别下列句子中的人名、地名和机构名：\n1. 马云在杭州创办了阿里巴巴。\n"
        "2. 李白出生于碎叶城。",
    ),
    (
        "Russian",
        "Найди именованные сущности в каждом предложении:\n1. Лев Толстой жил в Ясной Поляне.\n"
        "2. Газпром открыл офис в Санкт-Петербурге.",
    ),
    (
        "Spanish",
        "Identifica las entidades nombradas en cada frase:\n1. Gabriel García Márquez nació en "
        "Aracataca.\n2. Telefónica tiene su sede en Madrid.",
    ),
]

_SENTENCE_SETS = (
    (
        "The meeting starts at nine.",
        "Please bring your laptop.",
        "Lunch will be served at noon.",
    ),
    (
        "Where is the train station?",
        "I would like a table for two.",
        "How much does this cost?",
        "Thank you for your help.",
    ),
    (
        "The weather is lovely today.",
        "My brother lives in Canada.",
    ),
)
_TARGETS = ("French", "Spanish", "German", "Japanese", "Chinese", "Portuguese")


def _translation_english() -> list[Entry]:
    out = []
    for target in _TARGETS:
        for sents in _SENTENCE_SETS:
            body = "\n".join(f"{k}. {s}" for k, s in enumerate(sents, 1))
            out.append(("English", f"Translate these sentences into {target}:\n{body}"))
    return out


TRANSLATION: list[Entry] = [
    *_translation_english(),
    (
        "Chinese",
        "把下面的句子翻译成英文：\n1. 今天天气很好。\n2. 我想去北京旅游。\n3. 这本书很有意思。",
    ),
    (
        "Spanish",
        "Traduce al inglés estas frases:\n1. Me gusta leer por la noche.\n2. ¿Dónde está el "
        "museo?\n3. Mañana vamos a la playa.",
    ),
    (
        "French",
        "Traduis ces phrases en anglais :\n1. Je suis en retard.\n2. Le magasin ferme à vingt "
        "heures.",
    ),
    (
        "Russian",
        "Переведи на английский следующие предложения:\n1. Я люблю зиму.\n2. Мы живём в Москве.",
    ),
]

_BROKEN_SETS = (
    (
        "She don't like apples.",
        "We was going to the park yesterday.",
        "He have three cat.",
    ),
    (
        "Their going to the cinema tonight.",
        "I has finished my homework.",
        "The informations is wrong.",
        "Me and him goes to school together.",
    ),
    (
        "Its a beautiful day.",
        "She can sings very well.",
    ),
)


def _correction_english() -> list[Entry]:
    asks = (
        "Correct the grammar in these sentences:",
        "Fix the grammatical errors in each of the following sentences:",
        "Proofread and correct each sentence below:",
    )
    out = []
    for sents in _BROKEN_SETS:
        for ask in asks:
            body = "\n".join(f"{k}. {s}" for k, s in enumerate(sents, 1))
            out.append(("English", f"{ask}\n{body}"))
    return out


CORRECTION: list[Entry] = [
    *_correction_english(),
    (
        "Portuguese",
        "Corrija a gramática destas frases:\n1. Nós vai ao mercado amanhã.\n2. Eles está "
        "cansados.\n3. Eu gosta de café.",
    ),
    (
        "German",
        "Korrigiere die Fehler in diesen Sätzen:\n1. Ich habe gestern in Kino gegangen.\n2. Er "
        "wohnt seit drei Jahre in Berlin.",
    ),
    (
        "Spanish",
        "Corrige los errores de estas frases:\n1. Yo tener dos hermano.\n2. Ella ir a la "
        "escuela ayer.",
    ),
]

_REVIEW_SETS = (
    (
        "Great phone, the battery lasts two days.",
        "Terrible customer service, I waited an hour.",
        "It works. Nothing special.",
    ),
    (
        "The hotel room was spotless and the staff were lovely.",
        "The food arrived cold and late.",
        "Average coffee, nice view.",
        "Best concert I have ever been to!",
    ),
    (
        "The app crashes every time I open it.",
        "Fast delivery and good packaging.",
    ),
)


def _sentiment_english() -> list[Entry]:
    asks = (
        "Classify the sentiment of each review as positive, negative or neutral:",
        "What is the sentiment of each of these customer reviews?",
        "Label each tweet below as positive, negative or neutral.",
    )
    out = []
    for reviews in _REVIEW_SETS:
        for ask in asks:
            body = "\n".join(f"{k}. {r}" for k, r in enumerate(reviews, 1))
            out.append(("English", f"{ask}\n{body}"))
    return out


SENTIMENT: list[Entry] = [
    *_sentiment_english(),
    (
        "Spanish",
        "Clasifica el sentimiento de cada reseña:\n1. Me encantó el servicio.\n2. La comida "
        "estaba fría.\n3. Normal, nada especial.",
    ),
    (
        "Japanese",
        "次のレビューの感情をそれぞれポジティブ・ネガティブ・中立に分類してください。\n"
        "1. とても美味しかったです。\n2. 店員の対応が悪かった。\n3. 普通でした。",
    ),
    (
        "Chinese",
        "判断下面每条评论的情感倾向：\n1. 质量很好，非常满意。\n2. 物流太慢了。\n3. 一般般吧。",
    ),
]

NOVEL: list[Entry] = [
    (
        "English",
        "Compare these 3 laptops on price, battery life and weight:\n1. MacBook Air M3\n"
        "2. Dell XPS 13\n3. Lenovo ThinkPad X1 Carbon",
    ),
    (
        "English",
        "Compare the following phones on price and camera quality: Pixel 8, iPhone 15, Galaxy S24.",
    ),
    (
        "English",
        "Write a SQL query for each of these 4 tables that returns the 10 most recent rows:\n"
        "1. orders(id, created_at)\n2. customers(id, signup_date)\n3. payments(id, paid_at)\n"
        "4. refunds(id, refunded_at)",
    ),
    (
        "English",
        "Convert each of these to metric units:\n1. 5 miles\n2. 12 ounces\n3. 70 degrees "
        "Fahrenheit\n4. 6 feet",
    ),
    (
        "English",
        "Convert the following amounts to grams: 2 cups of flour, 1 tablespoon of sugar, "
        "3 teaspoons of salt.",
    ),
    (
        "English",
        "Write a one-line docstring for each of these Python functions:\n1. def add(a, b): "
        "return a + b\n2. def is_even(n): return n % 2 == 0\n3. def greet(name): return "
        "f'Hello {name}'",
    ),
    (
        "English",
        "Summarize each of these paragraphs in one sentence:\n1. The city council approved a "
        "new bike lane network after months of debate.\n2. Researchers found that sleeping "
        "seven hours improves memory in older adults.",
    ),
    (
        "English",
        "Rate each of these headlines from 1 to 10 for clickbait:\n1. You won't believe what "
        "happened next\n2. Council approves budget\n3. 10 secrets doctors hide from you",
    ),
    (
        "English",
        "For each of the following programming languages, give its creator and release year: "
        "Python, Java, Rust, Go.",
    ),
    (
        "English",
        "Write a regular expression for each of these: 1) an email address 2) a US zip code "
        "3) a date in YYYY-MM-DD format",
    ),
    (
        "English",
        "Explain each of these idioms in simple words:\n1. Break the ice\n2. Hit the sack\n"
        "3. Under the weather",
    ),
    ("French", "Compare ces 3 villes pour un week-end : Lyon, Bordeaux, Marseille."),
    ("German", "Rechne diese Werte in Euro um: 100 Dollar, 50 Pfund, 2000 Yen."),
    (
        "Chinese",
        "分别给出下面每个成语的意思：\n1. 画蛇添足\n2. 守株待兔\n3. 亡羊补牢",
    ),
]

NEGATIVES: list[Entry] = [
    ("English", "Write a 500-word essay on the causes of the French Revolution."),
    ("English", "Write a short professional bio for NAME_1, a data scientist from Chicago."),
    (
        "English",
        "A train leaves at 3 pm going 60 mph; a second leaves at 4 pm going 80 mph on the same "
        "track. At what time does the second train catch up? Show each step.",
    ),
    (
        "English",
        "Design a scalable URL shortener: describe the API, storage, caching and how you "
        "would handle 10k requests per second.",
    ),
    (
        "English",
        "Why does this Python code raise a KeyError?\n\ncounts = {}\nfor w in words:\n"
        "    counts[w] += 1",
    ),
    ("English", "Hello! How are you doing today?"),
    ("English", "Tell me a bedtime story about a dragon who is afraid of the dark."),
    ("English", "What is the capital of Australia?"),
    ("English", "Explain how a transformer neural network works."),
    ("English", "Write a cover letter for a junior accountant position at a small firm."),
    ("English", "What are the pros and cons of nuclear energy?"),
    ("English", "Summarize the plot of the novel Pride and Prejudice."),
    (
        "English",
        "My React component re-renders forever when I call setState inside useEffect. "
        "How do I fix it?",
    ),
    ("English", "Solve for x: 3x + 7 = 22, then compute x squared minus 4."),
    ("English", "Write a poem about the sea at night."),
    ("English", "You are NAME_1, a pirate captain. Stay in character and greet me."),
    ("English", "How do I make sourdough bread at home?"),
    (
        "English",
        "Write a Python function that checks whether a string is a palindrome, with tests.",
    ),
    ("English", "Is it safe to travel to Iceland in January?"),
    ("English", "Describe the water cycle to a ten-year-old."),
    ("Chinese", "请写一篇关于我的家乡的作文。"),
    ("Chinese", "如何学习Python编程？"),
    ("Spanish", "¿Cuál es la diferencia entre ser y estar?"),
    ("Spanish", "Escribe un cuento corto sobre un gato que viaja a la luna."),
    ("French", "Explique-moi la théorie de la relativité simplement."),
    ("German", "Wie funktioniert eine Wärmepumpe?"),
    ("Russian", "Как приготовить борщ? Подробный рецепт, пожалуйста."),
    ("Portuguese", "Qual é a melhor forma de aprender inglês sozinho?"),
    ("Japanese", "東京でおすすめの観光地はどこですか？"),
    ("Korean", "인공지능의 미래에 대해 설명해 주세요."),
    ("Italian", "Scrivi una lettera di ringraziamento al mio insegnante."),
    ("English", "NAME_1 and NAME_2 are planning a wedding. Write the speech NAME_1 will give."),
]

_SUBJECTS = (
    "photosynthesis",
    "inflation",
    "black holes",
    "the immune system",
    "blockchain",
    "plate tectonics",
    "compound interest",
    "the Roman Empire",
    "machine learning",
    "climate change",
)


def _single_tasks() -> list[Entry]:
    out = []
    for i, subject in enumerate(_SUBJECTS):
        out.append(("English", f"Explain {subject} in simple terms."))
        out.append(("English", f"Write an essay about {subject} for a high school class."))
        if i % 2:
            out.append(("English", f"What is the history of {subject}?"))
    return out


NEGATIVES += _single_tasks()

#: Prompts that appear in both the LMSYS and the WildChat files (dedup across datasets).
SHARED: list[Entry] = [
    ("English", "Give me 5 slogans for a coffee shop."),
    ("English", "Translate these sentences into French:\n1. Good morning.\n2. See you soon."),
    ("English", "What is the meaning of life?"),
    ("English", "Write a haiku about autumn leaves."),
    (
        "English",
        "Classify the sentiment of each review:\n1. Loved it.\n2. Hated it.\n3. It was okay.",
    ),
    ("Chinese", "你好，请介绍一下你自己。"),
]
