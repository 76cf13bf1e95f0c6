import MoatCore
