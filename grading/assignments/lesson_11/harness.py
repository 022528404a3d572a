"""Lesson 11's harness: the scenes the graded tests drive, built in the student's process.

It runs once the student's `lesson_11` is imported, and imports it by that name.
`TrimmedGraphScene` runs the student's graph on the grader's fake model, so the grader
reads what the model was sent from the model's own records. `ForgetScene` and
`EditScene` build their graphs here (a node that answers without a model, and a node
that sends the grader's model the whole conversation), so that each exercise is graded
on its own. Checkpointers and stores are in memory. Every method returns plain values
(thread ids, message contents, keys); verdicts are the grader's.
"""

import lesson_11 as submission  # the student's module, imported first by the grader
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.store.memory import InMemoryStore


def _thread(thread_id):
    return {"configurable": {"thread_id": thread_id}}


def _one_node_graph(node, **compile_options):
    builder = StateGraph(MessagesState)
    builder.add_node("answer", node)
    builder.add_edge(START, "answer")
    builder.add_edge("answer", END)
    return builder.compile(**compile_options)


class TrimmedGraphScene:
    """`build_trimmed_graph(model, InMemorySaver(), max_tokens)` on the grader's model."""

    def __init__(self, max_tokens, llm):
        self.llm = llm
        self.max_tokens = max_tokens
        self.checkpointer = InMemorySaver()
        self.graph = submission.build_trimmed_graph(llm, self.checkpointer, max_tokens)

    def send(self, thread_id, messages):
        """One run with `messages` as input; the text of the state's last message."""
        result = self.graph.invoke({"messages": messages}, _thread(thread_id))
        return result["messages"][-1].text

    def say(self, thread_id, text):
        return self.send(thread_id, [HumanMessage(text)])

    def say_through_a_new_graph(self, thread_id, text):
        """The same, through a second graph built on the same checkpointer."""
        graph = submission.build_trimmed_graph(self.llm, self.checkpointer, self.max_tokens)
        result = graph.invoke({"messages": [HumanMessage(text)]}, _thread(thread_id))
        return result["messages"][-1].text

    def stored(self, thread_id):
        """The messages of the thread's latest state."""
        return list(self.graph.get_state(_thread(thread_id)).values.get("messages", []))


def _noted(state):
    return {"messages": [AIMessage(f"Noted: {state['messages'][-1].text}")]}


class ForgetScene:
    """Threads of a model-free graph in an `InMemorySaver`, and an `InMemoryStore`."""

    def __init__(self):
        self.checkpointer = InMemorySaver()
        self.store = InMemoryStore()
        self.graph = _one_node_graph(_noted, checkpointer=self.checkpointer, store=self.store)

    def thread_id_for(self, user_id, conversation_id):
        return submission.thread_id_for(user_id, conversation_id)

    def chat(self, thread_id, *texts):
        """One turn per text in the thread `thread_id` (named by the grader)."""
        for text in texts:
            self.graph.invoke({"messages": [HumanMessage(text)]}, _thread(thread_id))

    def put(self, namespace, key, value):
        self.store.put(tuple(namespace), key, value)

    def put_many(self, namespace, count):
        for number in range(count):
            self.store.put(tuple(namespace), f"item-{number:03d}", {"number": number})

    def forget(self, user_id):
        return submission.forget_user(self.checkpointer, self.store, user_id)

    def threads(self):
        """Every thread id that still has a checkpoint, sorted."""
        found = {c.config["configurable"]["thread_id"] for c in self.checkpointer.list(None)}
        return sorted(found)

    def contents(self, thread_id):
        state = self.graph.get_state(_thread(thread_id))
        return [message.text for message in state.values.get("messages", [])]

    def items(self, namespace):
        """Every item under `namespace` (sub-namespaces included) as "a/b/key", sorted."""
        found = self.store.search(tuple(namespace), limit=10_000)
        return sorted("/".join([*item.namespace, item.key]) for item in found)


class EditScene:
    """A one-node graph sending the grader's model the whole conversation, checkpointed."""

    def __init__(self, llm):
        def answer(state):
            return {"messages": [llm.invoke(state["messages"])]}

        self.graph = _one_node_graph(answer, checkpointer=InMemorySaver())

    def say(self, thread_id, text):
        result = self.graph.invoke({"messages": [HumanMessage(text)]}, _thread(thread_id))
        return result["messages"][-1].text

    def edit(self, thread_id, index, new_text):
        return submission.edit_and_regenerate(self.graph, _thread(thread_id), index, new_text)

    def contents(self, thread_id):
        state = self.graph.get_state(_thread(thread_id))
        return [message.text for message in state.values.get("messages", [])]

    def tip(self, thread_id):
        """The id of the thread's latest checkpoint."""
        return self.graph.get_state(_thread(thread_id)).config["configurable"]["checkpoint_id"]

    def contents_at(self, thread_id, checkpoint_id):
        config = {"configurable": {"thread_id": thread_id, "checkpoint_id": checkpoint_id}}
        return [m.text for m in self.graph.get_state(config).values.get("messages", [])]

    def checkpoint_contents(self, thread_id):
        """The messages of every checkpoint of the thread, all branches, newest first."""
        return [
            [m.text for m in snapshot.values.get("messages", [])]
            for snapshot in self.graph.get_state_history(_thread(thread_id))
        ]

    def checkpoint_count(self, thread_id):
        return len(list(self.graph.get_state_history(_thread(thread_id))))
