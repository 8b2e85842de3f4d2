"""Random number generators for simulations."""
import numpy as np

__all__ = ["get_random_state"]


def get_random_state(random_state):
    """A `numpy.random.Generator` from a seed, a generator or ``"random-seed"``.

    Parameters
    ----------
    random_state : {int, None, "random-seed", "global-rng", `~numpy.random.Generator`}
        An int seeds a new generator (reproducible); None and "random-seed"
        give a freshly seeded one; "global-rng" uses numpy's global state
        through a generator seeded from it; a Generator is used as is.

    Returns
    -------
    rng : `~numpy.random.Generator`
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or (isinstance(random_state, str) and random_state == "random-seed"):
        return np.random.default_rng()
    if isinstance(random_state, str) and random_state == "global-rng":
        return np.random.default_rng(np.random.randint(0, 2**31))
    if isinstance(random_state, (int, np.integer)):
        return np.random.default_rng(int(random_state))
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31))
    raise ValueError(
        f"random_state must be an int, None, 'random-seed', 'global-rng' or a "
        f"numpy Generator, got {random_state!r}"
    )
