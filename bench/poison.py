"""What the poison fault and bench.faulty_service agree on (no imports: the service side
monkey-patches with eventlet first, the harness side must not)."""

#: The environment variable naming the file of poisoned case ids (empty file: fault removed).
FILE_SETTING = "LIANXIN_POISON_FILE"
#: What each failed delivery logs; the harness counts these lines to see there is no hot loop.
MARK = "poisoned delivery of"
