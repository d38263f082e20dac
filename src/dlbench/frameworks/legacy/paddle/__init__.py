"""PaddlePaddle's declaration; its adapter and the optimizer check are beside it. Imports no framework; Python
3.6-safe."""
from dlbench.environments import Environment
from dlbench.frameworks.declaration import Framework

FRAMEWORKS = [
    Framework("paddle", "PaddlePaddle 3.3", ["paddle"], ["paddlepaddle", "numpy"], [], __name__,
              workload_file="paddle",
              environment=Environment("3.11", [["numpy==2.4.6", "paddlepaddle==3.3.1"]], ["paddle"])),
]
