"""Word lists the demo store is assembled from: people, places, brands, carriers, reasons.

Kept apart from the generators so that the words can be read (and extended) at a glance,
and so that ``store_policy.yml`` and the generated orders can be checked against the same
store, shipping and payment identifiers (``tests/test_demo_store.py`` does).
"""

from __future__ import annotations

FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella", "Lucas",
    "Mia", "Mateo", "Amelia", "Benjamin", "Harper", "Henry", "Evelyn", "Theodore", "Abigail",
    "Jack", "Emily", "Levi", "Ella", "Alexander", "Scarlett", "Daniel", "Grace", "Samuel",
    "Chloe", "Owen", "Priya", "Arjun", "Mei", "Hiroshi", "Fatima", "Omar", "Sofia", "Diego",
    "Camila", "Luis", "Zoe", "Nathan", "Hannah", "Caleb", "Aaliyah", "Isaiah", "Nora", "Ryan",
    "Layla", "Adrian", "Leah", "Julian", "Maya", "Aaron", "Ruby", "Miles", "Iris", "Jonah",
    "Naomi", "Felix", "Keisha", "Andre", "Ingrid", "Tomas", "Anika", "Wei", "Yara", "Kofi",
)

LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Patel", "Kim", "Chen", "Okafor",
    "Kowalski", "Novak", "Larsen", "Murphy", "Sullivan", "Brennan", "Fischer", "Tanaka",
)

CITIES = (
    "New York", "Los Angeles", "Chicago", "Houston", "Phoenix", "Philadelphia", "San Antonio",
    "San Diego", "Dallas", "Austin", "Jacksonville", "Columbus", "Charlotte", "Indianapolis",
    "Seattle", "Denver", "Boston", "Nashville", "Portland", "Las Vegas", "Detroit", "Memphis",
    "Louisville", "Baltimore", "Milwaukee", "Albuquerque", "Tucson", "Sacramento", "Atlanta",
    "Raleigh", "Minneapolis", "Tampa", "New Orleans", "Cleveland", "Pittsburgh", "Salt Lake City",
    "Boise", "Burlington", "Madison", "Richmond",
)

# Inventory locations; the keys of every product's ``stock`` and of ``stores`` in
# store_policy.yml.  "online" is the warehouse that ships web orders.
STORES = ("downtown", "mall", "online")

# Shipping options offered at checkout: (id, days from shipping to delivery, min and max).
# store_policy.yml lists the same ids with their prices.
SHIPPING_METHODS = (("standard", 3, 6), ("express", 1, 2))
CARRIERS = ("UPS", "FedEx", "USPS", "DHL")

# Payment method ids as orders record them; store_policy.yml names and explains each.
PAYMENT_METHODS = ("visa", "mastercard", "amex", "discover", "paypal", "apple_pay", "google_pay", "gift_card")
PAYMENT_WEIGHTS = (30, 22, 9, 4, 16, 11, 6, 2)

DELAY_REASONS = (
    "Severe weather is slowing deliveries through the carrier's regional hub.",
    "The parcel missed its scheduled connection at the sorting facility.",
    "The carrier is working through a backlog after a holiday weekend.",
    "The carrier could not verify the delivery address and is contacting you.",
    "A delivery attempt failed because the building was closed.",
    "The item is on back-order at our warehouse; it ships as soon as it arrives.",
)

LOYALTY_TIERS = (("bronze", 0.0), ("silver", 500.0), ("gold", 1500.0), ("platinum", 4000.0))

# Brands invented per category, plus store-label brands that appear in every category.
BRANDS = {
    "apparel": ("Northwind", "Harbor & Pine", "Urbanthread", "Kestrel", "Loomcraft", "Sundial"),
    "shoes": ("Trailmaster", "Stridewell", "Peakform", "Cloudstep", "Ironbark", "Velora"),
    "electronics": ("Voltix", "Auralis", "Nexon", "Pixelon", "Quantra", "Brightwave"),
    "home": ("Hearthstone", "Linenly", "Casa Verde", "Moonfield", "Driftwood Home", "Lumen & Co."),
    "furniture": ("Oakhaven", "Nordhus", "Atelier Nine", "Restwell", "Copperline", "Stilwood"),
    "kitchen": ("Copperpot", "Brewcraft", "Sharpline", "Kitchora", "Fresco", "Ember & Salt"),
    "beauty": ("Lumiere", "Verdant Botanics", "Silkroot", "Aquabloom", "Purely Skin", "Glowhaus"),
    "sports & outdoors": ("Summitline", "Basecamp Co.", "Ridgeback", "Tidewater", "Kinetic", "Alpenglow"),
    "toys": ("Brightminds", "Tinkerly", "Wonderworks", "Little Comet", "Blocktopia", "Playfield"),
    "pet": ("Pawsome", "Whisker & Wag", "Trailhound", "Purrfect Pantry", "Barkley's", "Furwell"),
    "books & office": ("Inkwell", "Harborlight Press", "Deskwise", "Papermill", "Printix", "Quillstone"),
    "grocery": ("Morning Ritual", "Green Acre", "Daily Harvest Co.", "Bean & Bloom", "Vitalis", "Hillside Pantry"),
    "garden": ("Greenthumb", "Yardcraft", "Blossom & Root", "Fireside Co.", "Terrapin", "Meadowlark"),
    "baby": ("Little Sprout", "Cuddlenest", "Bambino Bay", "Snugglebug", "Tinytrek", "Dewdrop"),
}
GENERIC_BRANDS = ("Everyday Essentials", "Simple Choice", "Goodmark")

# Model and line names by the flavour of the category they are used in.
LINE_NAMES = {
    "outdoor": ("Ridge", "Summit", "Ascent", "Trailhead", "Cascade", "Granite", "Timberline", "Basalt",
                "Switchback", "Highland", "Tundra", "Sierra", "Alder", "Pinnacle", "Boulder"),
    "sport": ("Tempo", "Stride", "Pulse", "Velocity", "Glide", "Sprint", "Apex", "Racer", "Flow",
              "Momentum", "Pace", "Cadence", "Rally"),
    "tech": ("Pro", "Max", "Lite", "Nano", "Flux", "Core", "Edge", "Air", "Prime", "Vector", "Orbit",
             "Quantum", "Arc", "Nova"),
    "home": ("Harbor", "Willow", "Aspen", "Hudson", "Sonoma", "Bristol", "Juniper", "Marlow", "Haven",
             "Cove", "Linden", "Somerset", "Calloway", "Everly"),
    "style": ("Classic", "Essential", "Heritage", "Metro", "Weekend", "Coastal", "Studio", "Everyday",
              "Signature", "Canyon", "Alpine", "Harbor"),
    "care": ("Daily", "Gentle", "Pure", "Radiant", "Calm", "Fresh", "Nourish", "Clarity", "Bloom", "Renew"),
    "play": ("Junior", "Discovery", "Adventure", "Galaxy", "Rainbow", "Safari", "Rocket", "Pioneer",
             "Explorer", "Jumbo"),
    "pantry": ("Original", "Signature", "Reserve", "Classic", "Select", "Heritage", "Farmhouse", "Origins"),
}

BOOK_ADJECTIVES = (
    "Quiet", "Last", "Hidden", "Silver", "Burning", "Forgotten", "Northern", "Crimson", "Distant",
    "Secret", "Salt", "Winter", "Paper", "Golden", "Broken", "Midnight", "Lost", "Wild",
)
BOOK_NOUNS = (
    "Harbor", "Orchard", "Lighthouse", "Garden", "River", "Kingdom", "Letters", "Atlas", "Tide",
    "Archive", "Meadow", "Station", "Summer", "Compass", "Island", "Cartographer", "Lantern", "Bridge",
)
AUTHORS_FIRST = ("Elena", "Marcus", "Ada", "Tobias", "Ines", "Rafael", "Clara", "Jonas", "Noor", "Silas")
AUTHORS_LAST = ("Whitaker", "Okoye", "Lindqvist", "Moreau", "Castellanos", "Hartley", "Abara", "Voss")
