from . import test_case_lifecycle
from . import test_intake
from . import test_partner_matching
from . import test_retention
from . import test_sale_order
from . import test_security
from . import test_translation
from . import test_sla
