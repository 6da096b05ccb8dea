'''Export a configuration as a standalone, commented Keras 3 + numpy script for students.

The script generates the same task data, builds the same network (same layers and sizes,
so the same parameter count as `Seq2Seq.build(...).count_params()`), trains it with
`model.fit` on the sample budget and prints exact match on fresh examples. It does not
import seq2seq_core. Only the code for the chosen task and architecture is included, so
a script stays short; the settings at its top can be edited and the script re-run.
'''
from __future__ import annotations

import textwrap
from dataclasses import asdict, is_dataclass

from .config import ATTENTION_NAMES, ModelConfig, TrainConfig
from .errors import InvalidInput
from .tasks import REGISTRY, make_task, settings_for

PAIRS_FILE = "pairs.tsv"
JIT_COMPILE = {"auto": "auto", "graph": False, "xla": True}  # TrainConfig.compiler -> Keras


def script_filename(task_name: str) -> str:
    return f"seq2seq_{task_name}.py"


def pairs_tsv(task) -> str:
    """A translation task's pairs as the tab-separated text its exported script reads."""
    return "".join(f"{a}\t{b}\n" for a, b in task.pairs)


def export_script(task_name: str, task_settings=None, model_config: ModelConfig | None = None,
                  train_config: TrainConfig | None = None) -> str:
    """The standalone training script for this configuration, as Python source text."""
    if task_name not in REGISTRY:
        raise InvalidInput(f"Unknown task {task_name!r}; choose from: {', '.join(REGISTRY)}.")
    settings = _settings(task_name, task_settings)
    if getattr(settings, "level", "char") != "char":
        raise InvalidInput("The exported script translates character by character, as the "
                           "Keras example does; word and subword models are not exported. "
                           "Choose Token level: Characters to export this configuration.")
    model = model_config or ModelConfig()
    train = train_config or TrainConfig()
    task = None if task_name == "translation" else make_task(task_name, settings)
    parts = [
        _header(task_name, settings, model, train),
        IMPORTS.replace("import argparse\n", "import argparse\nimport datetime\n")
        if task_name == "dates" else IMPORTS,
        ARGS_TRANSLATION if task_name == "translation" else ARGS,
        _settings_block(task_name, settings, task, model, train),
        TASK_CODE[task_name](settings, task),
        MODEL_COMMON,
        *MODEL_CODE[model.arch],
        MAIN,
    ]
    return parts[0] + "\n" + "\n\n\n".join(p.strip("\n") for p in parts[1:]) + "\n"


def _settings(task_name: str, task_settings):
    if task_settings is None:
        return settings_for(task_name)
    if is_dataclass(task_settings):
        if not isinstance(task_settings, REGISTRY[task_name][0]):
            raise InvalidInput(f"These settings are not for the {task_name} task.")
        return task_settings
    return settings_for(task_name, **dict(task_settings))


# ---- the pieces of a script --------------------------------------------------------------
def _header(task_name, settings, model, train) -> str:
    cell = model.cell.upper()
    if model.arch == "repeat":
        net = (f"encoder {cell} -> RepeatVector -> decoder {cell} (the RepeatVector "
               "architecture of the Encoder-Decoder LSTM lesson)")
    else:
        net = (f"encoder {cell} whose final states start a decoder {cell} that reads the "
               "target shifted by one step (teacher forcing)")
        if model.arch == "attention":
            net += (f", with {ATTENTION_NAMES[model.attention]} attention over the encoder's "
                    "outputs at every decoder step")
    usage = f"python {script_filename(task_name)} [--dry-run]"
    data = ""
    if task_name == "translation":
        usage = f"python {script_filename(task_name)} [{PAIRS_FILE}] [--dry-run]"
        data = (f"\nData: reads sentence pairs from the tab-separated file given on the command "
                f"line\n(default {PAIRS_FILE}): one pair per line, source<TAB>target, UTF-8; "
                "extra columns are\nignored. seq2seq-lab trained on the corpus "
                f"{settings.corpus!r}; export its pairs to that file.\n")
    about = textwrap.fill(
        f"Network: {net}. Training: {train.max_samples:,} examples in batches of "
        f"{train.batch_size}, Adam (learning rate {train.learning_rate}), at most "
        f"{train.max_seconds:g} seconds; then exact match (every output token right) on "
        "held-out examples, with greedy decoding.", 88)
    return f'''"""{REGISTRY[task_name][1].title}: an encoder-decoder network, exported from seq2seq-lab.

{about}
{data}
Run:  {usage}
      --dry-run only builds the network and prints its parameter count.
Needs numpy and Keras 3 with a backend (e.g. TensorFlow); not seq2seq-lab itself.
"""'''


IMPORTS = '''
import argparse
import math
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # a quieter TensorFlow start-up

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402
'''

ARGS = '''
parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--dry-run", action="store_true",
                    help="only build the network and print its parameter count")
ARGS = parser.parse_args()
'''

ARGS_TRANSLATION = f'''
parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("pairs", nargs="?", default="{PAIRS_FILE}",
                    help="tab-separated sentence pairs, one per line")
parser.add_argument("--dry-run", action="store_true",
                    help="only build the network and print its parameter count")
ARGS = parser.parse_args()
'''

TASK_COMMENTS = {
    "n_in": "integers in each input", "n_out": "how many of them the output holds",
    "cardinality": "the integers are 1..CARDINALITY",
    "mode": '"reverse" the first N_OUT, "echo" them, or "reverse_all"',
    "n_terms": "numbers in each expression", "largest": "each number is 1..LARGEST",
    "operators": "operators to draw from (* before + and -)",
    "variable_terms": "True: each expression has 2..N_TERMS numbers",
    "first_year": "dates from 1 January of FIRST_YEAR", "last_year": "to 31 December of LAST_YEAR",
    "formats": "how the input dates are written",
    "max_pairs": "use at most this many pairs", "holdout": "share of pairs held out for testing",
    "max_length": "skip pairs with a longer sentence", "corpus": None,
    "level": None, "subwords": None,  # only character-level translation is exported
}


def _py(value) -> str:
    """A Python literal, with double-quoted strings like the rest of the script."""
    if isinstance(value, str) and '"' not in value and "\\" not in value:
        return f'"{value}"'
    if isinstance(value, tuple):
        return "(" + ", ".join(_py(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return repr(value)


def _line(name: str, value, comment: str | None) -> str:
    text = f"{name} = {_py(value)}"
    if isinstance(value, tuple) and len(text) > 80:  # one item per line
        items = "".join(f"    {_py(v)},\n" for v in value)
        return (f"# {comment}\n" if comment else "") + f"{name} = (\n{items})"
    return f"{text:<24}  # {comment}" if comment else text


def _settings_block(task_name, settings, task, model, train) -> str:
    lines = ["# ---- Settings, exported from seq2seq-lab: change them and run again ----",
             f"# The task: {task_name}"]
    for key, value in asdict(settings).items():
        if TASK_COMMENTS.get(key, "") is not None:
            lines.append(_line(key.upper(), value, TASK_COMMENTS.get(key)))
    lines += ["", "# The network",
              _line("CELL", model.cell, '"lstm" or "gru"'),
              _line("UNITS", model.units, "encoder units (the size of its state)")]
    if model.arch == "repeat":
        lines.append(_line("DECODER_UNITS", model.dec_units, "decoder units"))
    if model.arch == "attention":
        lines.append(_line("ATTENTION", model.attention, '"bahdanau", "luong" or "dot"'))
    lines += [_line("LAYERS", model.layers, "stacked recurrent layers, encoder and decoder"),
              _line("BIDIRECTIONAL", model.bidirectional, "the encoder reads both ways"),
              _line("REVERSE_SOURCE", model.reverse_source, "feed the input backwards"),
              _line("SKIP_PADDING", REGISTRY[task_name][1].bucketed,
                    "the encoder skips the padding before a short sentence"),
              _line("EMBEDDING", model.embedding, "learned token vectors; 0 = one-hot"),
              _line("DROPOUT", model.dropout, "dropout on the recurrent layers' inputs"),
              "", "# Training",
              _line("BATCH_SIZE", train.batch_size, None),
              _line("LEARNING_RATE", train.learning_rate, "Adam's step size"),
              _line("CLIPNORM", train.clipnorm or None, "clip gradients to this norm (None: off)"),
              _line("SCHEDULE", train.schedule, '"constant" or "warmup_cosine"'),
              _line("JIT_COMPILE", JIT_COMPILE[train.compiler],
                    "XLA: True, a TensorFlow graph: False, Keras decides: \"auto\""),
              _line("MAX_SAMPLES", train.max_samples, "training examples, seen once each"),
              _line("MAX_SECONDS", float(train.max_seconds), "stop early after this long"),
              _line("EVAL_SAMPLES", train.eval_samples, "held-out examples to test on"),
              _line("SEED", train.seed, None)]
    if train.target_accuracy is not None:
        lines.append(f"# (seq2seq-lab also stopped at {train.target_accuracy:.0%} exact match; "
                     "this script trains on the whole budget.)")
    return "\n".join(lines)


def _reverse_code(settings, task) -> str:
    return '''
# ---- 1. The data ----
# Id 0 never occurs in an input: the decoder reads it as its start symbol.
SOURCE_VOCAB = TARGET_VOCAB = DECODER_VOCAB = CARDINALITY + 1
START_ID = 0
SOURCE_PAD = -1  # inputs are never padded
SOURCE_LEN = N_IN
TARGET_LEN = N_IN if MODE == "reverse_all" else N_OUT


def make_pairs(rng, n, split="train"):
    """n fresh (source, target) pairs of integer arrays."""
    source = rng.integers(1, CARDINALITY + 1, size=(n, SOURCE_LEN), dtype="int32")
    head = source[:, :TARGET_LEN]
    target = head if MODE == "echo" else head[:, ::-1]
    return source, target.copy()


def target_weights(target):
    return np.ones(target.shape, dtype="float32")  # every output position counts


def show_source(ids):
    return " ".join(str(i) for i in ids)


show_target = show_source
'''


def _addition_code(settings, task) -> str:
    alphabet = "".join(task.source_vocab.tokens)
    return f'''
# ---- 1. The data ----
# Expressions and answers are written as characters, left-padded with spaces.
ALPHABET = {_py(alphabet)}  # digits, operators and the padding space
SOURCE_LEN = {task.source_len}  # characters in the longest expression
TARGET_LEN = {task.target_len}  # characters in the longest answer
SOURCE_VOCAB = TARGET_VOCAB = len(ALPHABET)
SOURCE_PAD = ALPHABET.index(" ")
START_ID = len(ALPHABET)  # an extra id: the decoder's start symbol
DECODER_VOCAB = len(ALPHABET) + 1


def encode(texts, length):
    """Left-pad each text with spaces to `length` characters, then turn it into ids."""
    return np.array([[ALPHABET.index(c) for c in t.rjust(length)] for t in texts], dtype="int32")


def make_pairs(rng, n, split="train"):
    """n fresh (source, target) pairs, e.g. ' 3+10' -> '13', as id arrays."""
    sources, targets = [], []
    for _ in range(n):
        count = rng.integers(2, N_TERMS + 1) if VARIABLE_TERMS else N_TERMS
        terms = rng.integers(1, LARGEST + 1, size=count)
        ops = rng.choice(list(OPERATORS), size=count - 1)
        text = str(terms[0]) + "".join(op + str(t) for op, t in zip(ops, terms[1:]))
        sources.append(text)
        targets.append(str(eval(text)))  # safe: digits and + - * only; * binds tighter
    return encode(sources, SOURCE_LEN), encode(targets, TARGET_LEN)


def target_weights(target):
    return np.ones(target.shape, dtype="float32")  # every output position counts


def show_source(ids):
    return "".join(ALPHABET[i] for i in ids).strip()


show_target = show_source
'''


DATE_WRITERS = {
    "d MMMM yyyy": 'lambda d: f"{d.day} {MONTHS[d.month - 1]} {d.year}"',
    "MMM d, yy": 'lambda d: f"{MONTHS[d.month - 1][:3]} {d.day}, {d.year % 100:02d}"',
    "dd/mm/yyyy": 'lambda d: f"{d.day:02d}/{d.month:02d}/{d.year}"',
    "dddd, MMMM do yyyy": ('lambda d: f"{WEEKDAYS[d.weekday()]}, {MONTHS[d.month - 1]} '
                           '{ordinal(d.day)} {d.year}"'),
    "MMMM d, yyyy": 'lambda d: f"{MONTHS[d.month - 1]} {d.day}, {d.year}"',
    "d MMM yyyy": 'lambda d: f"{d.day} {MONTHS[d.month - 1][:3]} {d.year}"',
    "dd.mm.yy": 'lambda d: f"{d.day:02d}.{d.month:02d}.{d.year % 100:02d}"',
    "yyyy/mm/dd": 'lambda d: f"{d.year}/{d.month:02d}/{d.day:02d}"',
}


def _dates_code(settings, task) -> str:
    chars = "".join(task.source_vocab.tokens[1:])
    writers = "\n".join(f"    {_py(fmt)}: {DATE_WRITERS[fmt]}," for fmt in settings.formats)
    ordinal = '''

def ordinal(day):
    """1 -> '1st', 2 -> '2nd', 11 -> '11th'..."""
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"
''' if "dddd, MMMM do yyyy" in settings.formats else ""
    return f'''
# ---- 1. The data ----
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
SOURCE_CHARS = {_py(chars)}  # every character the formats use
SOURCE_ID = {{c: i + 1 for i, c in enumerate(SOURCE_CHARS)}}  # id 0 is padding
SOURCE_VOCAB = len(SOURCE_CHARS) + 1
SOURCE_PAD = 0
SOURCE_LEN = {task.source_len}  # characters in the longest date text
TARGET_CHARS = "0123456789-"  # ISO dates: YYYY-MM-DD, always 10 characters
TARGET_VOCAB = len(TARGET_CHARS)
TARGET_LEN = 10
START_ID = TARGET_VOCAB  # an extra id: the decoder's start symbol
DECODER_VOCAB = TARGET_VOCAB + 1
{ordinal}
WRITERS = {{  # how each format writes a datetime.date
{writers}
}}


def make_pairs(rng, n, split="train"):
    """n fresh (source, target) pairs: a date as people write it -> its ISO form."""
    first = datetime.date(FIRST_YEAR, 1, 1).toordinal()
    last = datetime.date(LAST_YEAR, 12, 31).toordinal()
    days = [datetime.date.fromordinal(int(k)) for k in rng.integers(first, last + 1, size=n)]
    texts = [WRITERS[FORMATS[k]](d) for d, k in zip(days, rng.integers(0, len(FORMATS), size=n))]
    source = np.array([[0] * (SOURCE_LEN - len(t)) + [SOURCE_ID[c] for c in t] for t in texts],
                      dtype="int32")  # padding on the left
    target = np.array([[TARGET_CHARS.index(c) for c in d.isoformat()] for d in days], dtype="int32")
    return source, target


def target_weights(target):
    return np.ones(target.shape, dtype="float32")  # every output position counts


def show_source(ids):
    return "".join(SOURCE_CHARS[i - 1] for i in ids if i)


def show_target(ids):
    return "".join(TARGET_CHARS[i] for i in ids)
'''


def _translation_code(settings, task) -> str:
    return '''
# ---- 1. The data ----
PAD, START, END = 0, 1, 2  # special target ids; characters follow


def read_pairs(path):
    """(source, target) sentence pairs from a tab-separated file, repeated sources skipped."""
    if not os.path.isfile(path):
        raise SystemExit(f"No pairs file at {path!r}: give a tab-separated file of sentence pairs.")
    pairs, seen = [], set()
    with open(path, encoding="utf-8-sig") as f:
        for line in f.read().splitlines():
            parts = [p.strip() for p in line.split("\\t")]
            if len(parts) < 2 or not parts[0] or not parts[1] or parts[0] in seen:
                continue
            seen.add(parts[0])
            if max(len(parts[0]), len(parts[1])) <= MAX_LENGTH:
                pairs.append((parts[0], parts[1]))
    if len(pairs) < 2:
        raise SystemExit(f"{path!r} holds fewer than 2 usable pairs.")
    return pairs[:MAX_PAIRS]


PAIRS = read_pairs(ARGS.pairs)
SOURCE_CHARS = sorted({c for s, _ in PAIRS for c in s})
TARGET_CHARS = sorted({c for _, t in PAIRS for c in t})
SOURCE_ID = {c: i + 1 for i, c in enumerate(SOURCE_CHARS)}  # id 0 is padding
TARGET_ID = {c: i + 3 for i, c in enumerate(TARGET_CHARS)}  # after PAD, START, END
SOURCE_VOCAB, SOURCE_PAD = len(SOURCE_CHARS) + 1, PAD
TARGET_VOCAB = DECODER_VOCAB = len(TARGET_CHARS) + 3
START_ID = START
SOURCE_LEN = max(len(s) for s, _ in PAIRS)
TARGET_LEN = max(len(t) for _, t in PAIRS) + 1  # + the end symbol

# Hold out a share of the pairs for testing (the same split seq2seq-lab makes).
order = np.random.default_rng(0).permutation(len(PAIRS))
n_test = int(round(len(PAIRS) * HOLDOUT))
TEST_PAIRS = [PAIRS[i] for i in sorted(order[:n_test])]
TRAIN_PAIRS = [PAIRS[i] for i in sorted(order[n_test:])]
if not TEST_PAIRS:
    print("HOLDOUT is 0: testing on the training pairs (memorisation, as in the Keras example)")


def encode_pairs(pairs):
    source = np.zeros((len(pairs), SOURCE_LEN), dtype="int32")  # padding on the left
    target = np.zeros((len(pairs), TARGET_LEN), dtype="int32")  # padding after END
    for row, (s, t) in enumerate(pairs):
        source[row, SOURCE_LEN - len(s):] = [SOURCE_ID[c] for c in s]
        target[row, :len(t) + 1] = [TARGET_ID[c] for c in t] + [END]
    return source, target


def make_pairs(rng, n, split="train"):
    """n training pairs drawn at random, or the first n test pairs (training pairs if none)."""
    if split != "train":
        return encode_pairs((TEST_PAIRS or TRAIN_PAIRS)[:n])
    return encode_pairs([TRAIN_PAIRS[i] for i in rng.integers(0, len(TRAIN_PAIRS), size=n)])


def target_weights(target):
    """1 up to and including END; 0 for the padding after it, which should not count."""
    is_end = target == END
    return (np.cumsum(is_end, axis=1) - is_end == 0).astype("float32")


def show_source(ids):
    return "".join(SOURCE_CHARS[i - 1] for i in ids if i)


def show_target(ids):
    out = []
    for i in ids:
        if i == END:
            break
        out.append(TARGET_CHARS[i - 3] if i > END else "")
    return "".join(out)
'''


TASK_CODE = {"reverse": _reverse_code, "addition": _addition_code, "dates": _dates_code,
             "translation": _translation_code}

MODEL_COMMON = '''
# ---- 2. The network ----
RNN = {"lstm": layers.LSTM, "gru": layers.GRU}[CELL]


def recurrent(units, name):
    """A recurrent layer returning its output sequence and final state(s) (LSTM: h, c; GRU: h)."""
    cudnn = False if SKIP_PADDING else "auto"  # cuDNN takes only masks of right padding
    return RNN(units, return_sequences=True, return_state=True, dropout=DROPOUT, name=name,
               use_cudnn=cudnn)


def token_features(ids, vocab_size, name):
    """Token ids -> vectors: a learned embedding, or one-hot vectors when EMBEDDING is 0."""
    if EMBEDDING:
        return layers.Embedding(vocab_size, EMBEDDING, name=f"{name}_embedding")(ids)
    return layers.Lambda(lambda t: keras.ops.one_hot(t, vocab_size), name=f"{name}_onehot")(ids)


def encoder(source):
    """Read the source; return the top layer's output at every step and each layer's final
    states, the summary the decoder starts from."""
    x = token_features(source, SOURCE_VOCAB, "source")
    mask = keras.ops.not_equal(source, SOURCE_PAD) if SKIP_PADDING else None
    states = []
    for i in range(1, LAYERS + 1):
        if BIDIRECTIONAL:  # forwards and backwards; join the two directions' states
            x, *both = layers.Bidirectional(recurrent(UNITS, f"encoder_{i}"))(x, mask=mask)
            half = len(both) // 2
            layer_states = [layers.Concatenate()([both[k], both[half + k]]) for k in range(half)]
        else:
            x, *layer_states = recurrent(UNITS, f"encoder_{i}")(x, mask=mask)
        states.append(layer_states)
    return x, states


def prepare(source):
    """Optionally read the input backwards (Sutskever et al., 2014); padding stays in front."""
    if not REVERSE_SOURCE:
        return source
    out = source.copy()
    for row in out:
        start = len(row) - int(np.count_nonzero(row != SOURCE_PAD))
        row[start:] = row[start:][::-1].copy()
    return out
'''

MODEL_REPEAT = '''
def build_model():
    """Encoder -> its final h repeated once per output step -> decoder -> softmax per step."""
    source = keras.Input((SOURCE_LEN,), dtype="int32", name="source")
    _, states = encoder(source)
    x = layers.RepeatVector(TARGET_LEN)(states[-1][0])
    for i in range(1, LAYERS + 1):
        x = recurrent(DECODER_UNITS, f"decoder_{i}")(x)[0]
    probs = layers.TimeDistributed(layers.Dense(TARGET_VOCAB, activation="softmax"))(x)
    return keras.Model(source, probs)


def model_inputs(source, target):
    return prepare(source)


def greedy_decode(model, source):
    """The most likely token at every output step, all steps at once."""
    return model.predict(prepare(source), verbose=0).argmax(-1)
'''

DECODER_TEACHER = '''
STATE_UNITS = UNITS * (2 if BIDIRECTIONAL else 1)  # the decoder starts from the encoder's states


def decoder(decoder_input, states):
    """The decoder: each layer starts from its encoder layer's final states and reads the
    previous target token at each step; returns the top layer's output at every step."""
    x = token_features(decoder_input, DECODER_VOCAB, "target")
    for i, layer_states in enumerate(states, start=1):
        x = recurrent(STATE_UNITS, f"decoder_{i}")(x, initial_state=layer_states)[0]
    return x
'''

MODEL_TEACHER = '''
def build_model():
    """Encoder states start the decoder, which reads the previous target token at each step."""
    source = keras.Input((SOURCE_LEN,), dtype="int32", name="source")
    decoder_input = keras.Input((TARGET_LEN,), dtype="int32", name="decoder_input")
    _, states = encoder(source)
    probs = layers.Dense(TARGET_VOCAB, activation="softmax")(decoder(decoder_input, states))
    return keras.Model([source, decoder_input], probs)
'''

MODEL_ATTENTION = '''
def attend(query, encoder_outputs, source):
    """Every decoder step scores every input step, and mixes the encoder's outputs by
    the softmax of those scores (padding gets none): one context vector per step."""
    keys = encoder_outputs
    if ATTENTION != "dot":  # a learned projection of the encoder's outputs
        keys = layers.Dense(STATE_UNITS, use_bias=False, name="attention_key")(encoder_outputs)
    mask = layers.Lambda(lambda s: keras.ops.not_equal(s, SOURCE_PAD), name="source_mask")(source)
    if ATTENTION == "bahdanau":  # additive: v . tanh(W query + U key)
        query = layers.Dense(STATE_UNITS, use_bias=False, name="attention_query")(query)
        score = layers.AdditiveAttention(name="attention")
    else:  # Luong: query . (W key), or the plain dot product
        score = layers.Attention(name="attention")
    return score([query, encoder_outputs, keys], mask=[None, mask])


def build_model():
    """Teacher forcing, plus attention: at every step the decoder also looks back at all the
    encoder's outputs, and its output is combined with what it saw there."""
    source = keras.Input((SOURCE_LEN,), dtype="int32", name="source")
    decoder_input = keras.Input((TARGET_LEN,), dtype="int32", name="decoder_input")
    encoder_outputs, states = encoder(source)
    x = decoder(decoder_input, states)
    context = attend(x, encoder_outputs, source)
    x = layers.Dense(STATE_UNITS, activation="tanh", name="attention_combine")(
        layers.Concatenate()([context, x]))
    probs = layers.Dense(TARGET_VOCAB, activation="softmax")(x)
    return keras.Model([source, decoder_input], probs)
'''

TEACHER_DECODE = '''
def model_inputs(source, target):
    """Teacher forcing: the decoder reads START, then the true previous token."""
    previous = np.full_like(target, START_ID)
    previous[:, 1:] = target[:, :-1]
    return [prepare(source), previous]


def greedy_decode(model, source):
    """Predict one token per step and feed it back in as the next decoder input.

    Re-running the whole model each step is simple, and as the decoder only looks back,
    it gives the same tokens as a step-by-step decoder.
    """
    source = prepare(source)
    previous = np.full((len(source), TARGET_LEN), START_ID, dtype="int32")
    predicted = np.zeros_like(previous)
    for t in range(TARGET_LEN):
        probs = keras.ops.convert_to_numpy(model([source, previous], training=False))
        predicted[:, t] = probs[:, t].argmax(-1)
        if t + 1 < TARGET_LEN:
            previous[:, t + 1] = predicted[:, t]
    return predicted
'''

MODEL_CODE = {"repeat": (MODEL_REPEAT,),
              "teacher": (DECODER_TEACHER, MODEL_TEACHER, TEACHER_DECODE),
              "attention": (DECODER_TEACHER, MODEL_ATTENTION, TEACHER_DECODE)}

MAIN = '''
# ---- 3. Train, then test on held-out examples ----
class TimeLimit(keras.callbacks.Callback):
    """Stop training after MAX_SECONDS."""

    def on_train_begin(self, logs=None):
        self.began = time.time()

    def on_train_batch_end(self, batch, logs=None):
        if time.time() - self.began > MAX_SECONDS:
            self.model.stop_training = True


def learning_rate():
    """Adam's step size: a constant, or a warm-up over the first 5% of the budget's steps
    (500 at most; from a tenth of LEARNING_RATE), then a cosine decay to 2% of it at the
    budget's end."""
    if SCHEDULE == "constant":
        return LEARNING_RATE
    steps = max(2, math.ceil(MAX_SAMPLES / BATCH_SIZE))
    warm = max(1, min(500, int(steps * 0.05)))
    return keras.optimizers.schedules.CosineDecay(
        LEARNING_RATE * 0.1, steps - warm, alpha=0.02, warmup_target=LEARNING_RATE,
        warmup_steps=warm)


def main():
    keras.utils.set_random_seed(SEED)
    model = build_model()
    print(f"params: {model.count_params()}")
    if ARGS.dry_run:
        return
    model.compile(optimizer=keras.optimizers.Adam(learning_rate(), clipnorm=CLIPNORM),
                  loss="sparse_categorical_crossentropy", jit_compile=JIT_COMPILE)
    source, target = make_pairs(np.random.default_rng(SEED), MAX_SAMPLES)
    began = time.time()
    model.fit(model_inputs(source, target), target, sample_weight=target_weights(target),
              batch_size=BATCH_SIZE, epochs=1, callbacks=[TimeLimit()], verbose=2)
    print(f"trained for {time.time() - began:.1f} s")

    source, target = make_pairs(np.random.default_rng(SEED + 1), EVAL_SAMPLES, "test")
    predicted = greedy_decode(model, source)
    counts = target_weights(target) > 0
    exact = ((predicted == target) | ~counts).all(axis=1)  # every counted token right
    for i in range(min(5, len(source))):
        print(f"{show_source(source[i])!r} -> {show_target(predicted[i])!r} "
              f"(expected {show_target(target[i])!r})")
    print(f"exact match: {exact.mean():.3f} on {len(exact)} held-out examples")


if __name__ == "__main__":
    main()
'''
