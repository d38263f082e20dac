"""CNTK's declaration (Python 3.6 only); its adapter and Keras's optimizer rules are beside it. Imports no framework;
Python 3.6-safe."""
from dlbench.environments import Environment
from dlbench.frameworks.declaration import Framework
from dlbench.frameworks.legacy import OPENMPI, PY36_PIP

FRAMEWORKS = [
    Framework("cntk", "CNTK 2.7 (Python 3.6)", ["cntk"], ["cntk", "numpy"], [], __name__, workload_file="cntk",
              environment=Environment("3.6", [PY36_PIP, ["numpy==1.19.5", "scipy==1.5.4", "cntk==2.7.post2"]],
                                      ["cntk"], libraries=OPENMPI)),
]
