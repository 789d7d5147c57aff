"""placeholder: filled in by its own change."""


def one_hot(*args):
    raise NotImplementedError
