// engine/transfer sources land here.
