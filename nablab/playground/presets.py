"""One-click states for the seeds' experiments (the labs of the same names): a title, what to
look for, and the query string of the state."""

PRESETS = {
    "xor-relu": {
        "title": "XOR with 2 ReLUs",
        "look": "two ReLU units can represent XOR, but from many seeds training stalls: "
        "change the seed, or add a third unit",
        "query": "dataset=xor&noise=0&hidden=2&act=relu&lr=0.1&batch=10&features=x1,x2",
    },
    "dead-relu": {
        "title": "Dead ReLUs (biases −8)",
        "look": "every bias starts at −8: the ReLUs output 0 on every input, no gradient "
        "reaches them and the Monitor names the dead units",
        "query": "dataset=moons&noise=0.5&hidden=3,3,3,3&act=relu&init=normal&init_value=0.01"
        "&bias=-8&lr=0.01&batch=50&features=x1,x2",
    },
    "zero-init": {
        "title": "Zero initialisation",
        "look": "every weight and bias starts at 0: the hidden units stay identical (the "
        "Monitor's symmetric units) and the layer acts as one unit",
        "query": "dataset=circle&hidden=5&act=sigmoid&init=zero&lr=0.2&batch=50&features=x1,x2",
    },
    "vanishing-mlp": {
        "title": "Vanishing gradients (sigmoid)",
        "look": "five sigmoid layers with N(0, 0.01²) weights: the first layers' gradients "
        "vanish and the loss barely moves",
        "query": "dataset=moons&noise=0.5&hidden=3,3,3,3&act=sigmoid&init=normal"
        "&init_value=0.01&bias=1&lr=0.1&batch=50&features=x1,x2",
    },
}
