"""The ports the crew works through, as Protocols and plain data: a code host (`forge`) and a
chat poster (`slack`). Adapters implement them; the domain and the steps see only these."""
