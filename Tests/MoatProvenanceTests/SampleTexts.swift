/// Answers in the style of a chat model, with the things marking must leave alone: code blocks, inline
/// code, JSON, tool-call syntax, URLs, numbers, quotations, and lists.
enum SampleTexts {
    static let prose = """
        Sure! Here's a short overview of how to organize your week. It's important to make sure that you \
        don't overload Monday. For example, you can prioritize the tasks that are usually hard, and it is \
        a good idea to keep in mind that you will not finish everything. Additionally, there is no need to \
        panic: I am sure you'll realize that a lot of tasks are optional.

        In addition, you should not forget breaks. Moreover, studies often show that people who take breaks \
        are nearly always more productive. Therefore, take them. Although it can feel unproductive, it isn't.

        - First item: analyze your calendar.
        - Second item: we are going to minimize meetings.
        - Third item: they will not mind.

        Overall, I have found that this behavior is favorable. Let me know if you'd like me to customize it.
        """

    static let code = """
        To fix it, you don't need to change much. Here's the code:

        ```python
        def organize(items):
            # It's important: do not remove this line. For example, we are careful.
            return sorted(items)  # don't touch
        ```

        The function `organize()` doesn't modify `items`, and it is a pure function. You can also run \
        `python -c "print('it is not')"` in a terminal.

            indented code: it is not prose, do not touch it
            for example = 1

        Finally, it's worth noting that the output is sorted.
        """

    static let json = """
        {"answer": "it is not a problem, for example", "items": ["do not", "color"], "n": 3}
        """

    static let embeddedJSON = """
        Here is the result you asked for. It is a JSON object:
        {"status": "ok", "note": "it is important that we do not change this", "values": [1, 2, 3]}
        It's important to note that the "note" field isn't optional. Do not remove it.
        [do not touch this either, it is in brackets]
        """

    static let toolCall = """
        I will look that up for you.
        <tool_call>
        {"name": "search", "arguments": {"query": "it is not raining, for example"}}
        </tool_call>
        After the search, I'm going to summarize it for you.
        """

    static let mixed = """
        As the docs at https://example.com/it-is-not/for_example?q=do+not say, you don't need 3.5 GB. \
        She said "it is not the color I wanted, for example" and left. The 'it is not' phrase is quoted. \
        “I am not sure,” he wrote. Don’t panic: it’s fine, and we’re nearly done. \
        The formula $it is not math$ stays. Don't DO NOT change caps. Email me at do.not@example.com.

        > It is not a quote I will change, for example.

        1. First, it is a good idea to analyze the data.
        2. Second, we are going to visualize it.
           * a nested item that is not changed?
           * another item, for example.
        3. Third, you don't stop.

        * A new list with a star: it is a list.
        * And another item, which I have seen before.
        """

    static let all = [prose, code, json, embeddedJSON, toolCall, mixed]
}
