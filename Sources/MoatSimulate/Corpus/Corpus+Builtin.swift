import MoatCore
extension Corpus {
    /// A small fallback corpus so tests and the demo run offline. Real runs use ShareGPT and HumanEval
    /// (`scripts/fetch-corpus.sh`).
    public static func builtin(limits: CorpusLimits = CorpusLimits()) -> Corpus {
        let conversations = builtinChats.map { pairs in
            pairs.map { Turn(prompt: truncate($0.0, limits.promptChars), response: truncate($0.1, limits.responseChars),
                             responseChars: $0.1.utf8.count * 6) }
        }
        let problems = builtinProblems.enumerated().map { i, p in
            CodingProblem(taskID: "Builtin/\(i)", prompt: p.1, entryPoint: p.0, solution: p.2)
        }
        return Corpus(conversations: conversations, codingProblems: problems, source: "built-in fallback corpus")
    }

    static let builtinChats: [[(String, String)]] = [
        [("Can you help me write a cover letter for a junior data analyst position?",
          "Of course. Start with a short paragraph naming the role and why the company interests you. Then give two concrete examples of analysis you have done, with numbers."),
         ("Make it shorter and more confident.", "Here is a tighter version: I turn messy data into decisions. At my last internship I cut reporting time by 40% by automating the weekly dashboard.")],
        [("What is the difference between a process and a thread?",
          "A process has its own address space; threads share the address space of the process that owns them, so they communicate cheaply but need synchronization.")],
        [("Plan a 3-day trip to Lisbon on a budget.", "Day 1: Alfama and the castle, free walking tour. Day 2: Belém by tram 15, pastries at the monastery. Day 3: day trip to Sintra by train."),
         ("What should I eat there?", "Try bifanas, grilled sardines in season, and pastéis de nata. Tascas near Mouraria are cheap and good.")],
        [("Explain recursion to a 10 year old.", "Recursion is when something is described using a smaller copy of itself, like Russian dolls: to open all the dolls, you open one and then do the same with the doll inside.")],
        [("Write a SQL query that returns the top 5 customers by total order value.",
          "SELECT customer_id, SUM(amount) AS total FROM orders GROUP BY customer_id ORDER BY total DESC LIMIT 5;"),
         ("Now include the customer's name.", "Join the customers table: SELECT c.name, SUM(o.amount) AS total FROM orders o JOIN customers c ON c.id = o.customer_id GROUP BY c.name ORDER BY total DESC LIMIT 5;")],
        [("How do I center a div in CSS?", "Use flexbox on the parent: display: flex; justify-content: center; align-items: center;. Grid works too: display: grid; place-items: center;.")],
        [("Summarize the causes of the French Revolution in five bullet points.",
          "Fiscal crisis of the crown; an unfair tax system that spared nobles and clergy; Enlightenment ideas; bad harvests and bread prices; the political deadlock of the Estates-General.")],
        [("I feel unmotivated at work lately. Any advice?", "Start by naming what changed. Small wins help: pick one task you can finish today. If it lasts for weeks, talk to your manager or someone you trust.")],
        [("Translate 'Where is the train station?' into German and Spanish.", "German: Wo ist der Bahnhof? Spanish: ¿Dónde está la estación de tren?")],
        [("Give me a recipe for a vegetarian chili.", "Sauté onion, garlic and peppers; add cumin, chili powder and smoked paprika; add tomatoes, black beans, kidney beans and corn; simmer 30 minutes; finish with lime.")],
        [("What's a good name for a coffee shop that also sells books?", "Some ideas: Chapter & Roast, The Reading Bean, Spill the Pages, Brew Chapters, Proof & Print.")],
        [("Write a Python function to check whether a string is a palindrome.",
          "def is_palindrome(s):\n    t = ''.join(c.lower() for c in s if c.isalnum())\n    return t == t[::-1]"),
         ("Add type hints and a docstring.", "def is_palindrome(s: str) -> bool:\n    \"\"\"Return True if s reads the same backwards, ignoring case and punctuation.\"\"\"")],
        [("How does compound interest work?", "Interest is added to the principal, so the next period earns interest on the interest too. With rate r per period, after n periods you have P(1+r)^n.")],
        [("Draft a polite email asking my landlord to fix the heating.", "Subject: Heating repair request. Dear Ms. Rossi, the heating in flat 4 has not worked since Monday. Could you arrange a repair this week? Thank you, Sam.")],
        [("What are the main differences between TCP and UDP?", "TCP is connection-oriented, reliable and ordered, with congestion control. UDP sends independent datagrams with no delivery guarantee, which makes it lighter and lower-latency.")],
        [("Suggest a weekly workout plan for a beginner.", "Three full-body sessions (Mon, Wed, Fri): squats, push-ups, rows, planks. Two walks or easy runs. Rest on the weekend."),
         ("I only have dumbbells.", "Use goblet squats, dumbbell bench or floor press, one-arm rows, Romanian deadlifts and overhead presses.")],
        [("Explain what a React hook is.", "A hook is a function like useState or useEffect that lets a function component keep state and run side effects without writing a class.")],
        [("Write a haiku about autumn rain.", "Cold rain on maples / red leaves slide down the window / the kettle answers")],
        [("What should I consider when buying a used car?", "Service history, rust, tyre wear, a test drive on the motorway, and an independent inspection. Check the price against listings for the same model and mileage.")],
        [("Can you explain the bias-variance tradeoff?", "A simple model underfits (high bias); a very flexible one overfits (high variance). The best test error comes from balancing the two, for example with regularization or cross-validation.")],
        [("My Docker container exits immediately. Why?", "The container stops when its main process ends. Check `docker logs`, make sure the command runs in the foreground, and that the entrypoint is correct.")],
        [("Help me prepare questions for a job interview as a product manager.", "Ask how success is measured for the role, how roadmaps are decided, the relationship with engineering, and what the biggest challenge of the first six months would be.")],
        [("Write a short bedtime story about a brave turtle.", "Tula the turtle was slow but curious. One night the lighthouse went dark, and she crawled all the way up the rocks to wake the keeper. The ships came home safe.")],
        [("What is the capital of Australia and why isn't it Sydney?", "Canberra. It was built as a compromise between Sydney and Melbourne, which both wanted to be the capital when the colonies federated in 1901.")],
    ]

    static let builtinProblems: [(String, String, String)] = [
        ("has_close_elements", "from typing import List\n\n\ndef has_close_elements(numbers: List[float], threshold: float) -> bool:\n    \"\"\" Check if in given list of numbers, are any two numbers closer to each other than\n    given threshold.\n    \"\"\"\n",
         "    for i, a in enumerate(numbers):\n        for j, b in enumerate(numbers):\n            if i != j and abs(a - b) < threshold:\n                return True\n    return False\n"),
        ("truncate_number", "def truncate_number(number: float) -> float:\n    \"\"\" Given a positive floating point number, return its decimal part.\n    \"\"\"\n", "    return number % 1.0\n"),
        ("below_zero", "from typing import List\n\n\ndef below_zero(operations: List[int]) -> bool:\n    \"\"\" Detect if at any point the balance of the account falls below zero.\n    \"\"\"\n",
         "    balance = 0\n    for op in operations:\n        balance += op\n        if balance < 0:\n            return True\n    return False\n"),
        ("intersperse", "from typing import List\n\n\ndef intersperse(numbers: List[int], delimeter: int) -> List[int]:\n    \"\"\" Insert a number 'delimeter' between every two consecutive elements.\n    \"\"\"\n",
         "    result = []\n    for n in numbers[:-1]:\n        result += [n, delimeter]\n    return result + numbers[-1:]\n"),
        ("sum_product", "from typing import List, Tuple\n\n\ndef sum_product(numbers: List[int]) -> Tuple[int, int]:\n    \"\"\" Return a tuple of the sum and the product of all integers in a list.\n    \"\"\"\n",
         "    s, p = 0, 1\n    for n in numbers:\n        s += n\n        p *= n\n    return s, p\n"),
        ("is_prime", "def is_prime(n):\n    \"\"\"Return true if a given number is prime, and false otherwise.\n    \"\"\"\n",
         "    if n < 2:\n        return False\n    for k in range(2, int(n ** 0.5) + 1):\n        if n % k == 0:\n            return False\n    return True\n"),
        ("fib", "def fib(n: int):\n    \"\"\"Return n-th Fibonacci number.\n    \"\"\"\n", "    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n"),
        ("count_vowels", "def count_vowels(s):\n    \"\"\"Return the number of vowels in the string s.\n    \"\"\"\n", "    return sum(c in 'aeiouAEIOU' for c in s)\n"),
    ]
}
