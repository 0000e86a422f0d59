from . import test_escalation
from . import test_rpc_security
from . import test_escalation_tour
