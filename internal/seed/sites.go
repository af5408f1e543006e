package seed

// The camera network is a hand-written table of real London roads and junctions. Positions are
// approximate (a few hundred metres) but in the right order along each road, so journeys along a
// road pass its cameras in sequence and a map of the reads looks like London.

// roadClass sets how fast traffic moves between sites and how many cameras a site has.
type roadClass uint8

const (
	motorway roadClass = iota // both carriageways read, 45-65 mph
	trunk                     // both carriageways read, 22-45 mph
	urban                     // one carriageway per site, alternating along the road, 14-30 mph
	central                   // one camera per site reading traffic towards the centre, 8-18 mph
	local                     // links between roads (junctions, side streets); no cameras of its own
)

// speedMPH is the range of typical speeds on each class of road. The top of the fastest range
// (65 mph, 105 km/h) stays well below the impossible-travel threshold tests use (150 km/h), even
// before the detour factor makes straight-line speeds lower still.
var speedMPH = [...][2]float64{
	motorway: {45, 65},
	trunk:    {22, 45},
	urban:    {14, 30},
	central:  {8, 18},
	local:    {12, 25},
}

// detour is road distance over straight-line distance between neighbouring sites.
var detour = [...]float64{motorway: 1.1, trunk: 1.2, urban: 1.25, central: 1.35, local: 1.35}

type siteDef struct {
	place, area string
	lat, lon    float64
	road        string  // road name when it differs from the road definition's (central points)
	bearing     float64 // direction of travel of the primary camera, for unchained sites only
}

type roadDef struct {
	code, name string
	class      roadClass
	chained    bool // consecutive sites are linked along the road; false for scattered points
	sites      []siteDef
}

// roadDefs lists every road. Order matters only for camera ids, which must stay stable: append
// new sites at the end of a road and new roads at the end of the list.
var roadDefs = []roadDef{
	{"M4", "M4", motorway, true, []siteDef{
		{place: "Heathrow Spur J4", area: "Hillingdon", lat: 51.4935, lon: -0.4500},
		{place: "Hayes J3", area: "Hounslow", lat: 51.4895, lon: -0.4170},
		{place: "Osterley", area: "Hounslow", lat: 51.4880, lon: -0.3520},
		{place: "Brentford Elevated", area: "Hounslow", lat: 51.4875, lon: -0.3120},
	}},
	{"A406", "A406 North Circular Rd", trunk, true, []siteDef{
		{place: "Chiswick Roundabout", area: "Hounslow", lat: 51.4905, lon: -0.2745},
		{place: "Ealing Common", area: "Ealing", lat: 51.5120, lon: -0.2870},
		{place: "Hanger Lane", area: "Ealing", lat: 51.5300, lon: -0.2930},
		{place: "Stonebridge Park", area: "Brent", lat: 51.5440, lon: -0.2730},
		{place: "Neasden", area: "Brent", lat: 51.5530, lon: -0.2500},
		{place: "Staples Corner", area: "Barnet", lat: 51.5690, lon: -0.2300},
		{place: "Brent Cross", area: "Barnet", lat: 51.5765, lon: -0.2190},
		{place: "Henlys Corner", area: "Barnet", lat: 51.5870, lon: -0.1970},
		{place: "Finchley High Rd", area: "Barnet", lat: 51.5990, lon: -0.1720},
		{place: "New Southgate", area: "Barnet", lat: 51.6130, lon: -0.1420},
		{place: "Bounds Green", area: "Enfield", lat: 51.6110, lon: -0.1180},
		{place: "Palmers Green", area: "Enfield", lat: 51.6165, lon: -0.0990},
		{place: "Great Cambridge Roundabout", area: "Enfield", lat: 51.6170, lon: -0.0790},
		{place: "Angel Edmonton", area: "Enfield", lat: 51.6150, lon: -0.0620},
		{place: "Meridian Water", area: "Enfield", lat: 51.6120, lon: -0.0430},
		{place: "Crooked Billet", area: "Waltham Forest", lat: 51.6080, lon: -0.0170},
		{place: "Waterworks Corner", area: "Waltham Forest", lat: 51.6010, lon: 0.0010},
		{place: "Charlie Brown's Roundabout", area: "Redbridge", lat: 51.5960, lon: 0.0300},
		{place: "Redbridge Roundabout", area: "Redbridge", lat: 51.5760, lon: 0.0450},
		{place: "Ilford", area: "Redbridge", lat: 51.5560, lon: 0.0620},
		{place: "Beckton", area: "Newham", lat: 51.5190, lon: 0.0720},
	}},
	{"A205", "A205 South Circular Rd", urban, true, []siteDef{
		{place: "Kew Bridge", area: "Hounslow", lat: 51.4875, lon: -0.2880},
		{place: "Kew", area: "Richmond upon Thames", lat: 51.4720, lon: -0.2830},
		{place: "Sheen", area: "Richmond upon Thames", lat: 51.4655, lon: -0.2650},
		{place: "Putney", area: "Wandsworth", lat: 51.4625, lon: -0.2180},
		{place: "Wandsworth Common", area: "Wandsworth", lat: 51.4540, lon: -0.1840},
		{place: "Clapham Common", area: "Lambeth", lat: 51.4565, lon: -0.1505},
		{place: "Tulse Hill", area: "Lambeth", lat: 51.4420, lon: -0.1110},
		{place: "Forest Hill", area: "Lewisham", lat: 51.4405, lon: -0.0530},
		{place: "Catford", area: "Lewisham", lat: 51.4455, lon: -0.0205},
		{place: "Lee", area: "Lewisham", lat: 51.4470, lon: 0.0110},
		{place: "Eltham", area: "Greenwich", lat: 51.4555, lon: 0.0380},
		{place: "Shooters Hill", area: "Greenwich", lat: 51.4720, lon: 0.0560},
	}},
	{"A40", "A40 Western Ave", trunk, true, []siteDef{
		{place: "Hillingdon Circus", area: "Hillingdon", lat: 51.5525, lon: -0.4470},
		{place: "Ruislip", area: "Hillingdon", lat: 51.5535, lon: -0.4100},
		{place: "Northolt", area: "Ealing", lat: 51.5450, lon: -0.3750},
		{place: "Greenford", area: "Ealing", lat: 51.5385, lon: -0.3440},
		{place: "Perivale", area: "Ealing", lat: 51.5360, lon: -0.3170},
		{place: "Hanger Lane", area: "Ealing", lat: 51.5310, lon: -0.2905},
		{place: "Park Royal", area: "Ealing", lat: 51.5255, lon: -0.2700},
		{place: "East Acton", area: "Hammersmith and Fulham", lat: 51.5175, lon: -0.2480},
		{place: "Westway Ladbroke Grove", area: "Kensington and Chelsea", lat: 51.5200, lon: -0.2050},
		{place: "Westway Paddington", area: "Westminster", lat: 51.5195, lon: -0.1780},
		{place: "Marylebone Rd", area: "Westminster", lat: 51.5225, lon: -0.1570},
	}},
	{"A4", "A4 Great West Rd", urban, true, []siteDef{
		{place: "Hogarth Roundabout", area: "Hounslow", lat: 51.4870, lon: -0.2510},
		{place: "Hammersmith Flyover", area: "Hammersmith and Fulham", lat: 51.4910, lon: -0.2250},
		{place: "Talgarth Rd", area: "Hammersmith and Fulham", lat: 51.4905, lon: -0.2110},
		{place: "Cromwell Rd Earls Court", area: "Kensington and Chelsea", lat: 51.4950, lon: -0.1950},
		{place: "Cromwell Rd South Kensington", area: "Kensington and Chelsea", lat: 51.4960, lon: -0.1760},
		{place: "Knightsbridge", area: "Westminster", lat: 51.5010, lon: -0.1610},
		{place: "Hyde Park Corner", area: "Westminster", lat: 51.5030, lon: -0.1510},
	}},
	{"A1", "A1 Great North Rd", urban, true, []siteDef{
		{place: "Angel", area: "Islington", lat: 51.5325, lon: -0.1060},
		{place: "Highbury Corner", area: "Islington", lat: 51.5465, lon: -0.1035},
		{place: "Holloway", area: "Islington", lat: 51.5540, lon: -0.1140},
		{place: "Archway", area: "Islington", lat: 51.5655, lon: -0.1350},
		{place: "Highgate", area: "Haringey", lat: 51.5760, lon: -0.1430},
		{place: "East Finchley", area: "Barnet", lat: 51.5855, lon: -0.1680},
		{place: "Great North Way", area: "Barnet", lat: 51.5985, lon: -0.2130},
		{place: "Mill Hill Circus", area: "Barnet", lat: 51.6150, lon: -0.2350},
		{place: "Stirling Corner", area: "Barnet", lat: 51.6455, lon: -0.2590},
	}},
	{"M1", "M1", motorway, true, []siteDef{
		{place: "Staples Corner Spur", area: "Barnet", lat: 51.5740, lon: -0.2370},
		{place: "Hendon", area: "Barnet", lat: 51.5935, lon: -0.2440},
		{place: "Mill Hill", area: "Barnet", lat: 51.6180, lon: -0.2560},
		{place: "Scratchwood", area: "Barnet", lat: 51.6400, lon: -0.2720},
	}},
	{"A5", "A5 Edgware Rd", urban, true, []siteDef{
		{place: "Kilburn", area: "Brent", lat: 51.5420, lon: -0.1960},
		{place: "Cricklewood", area: "Brent", lat: 51.5560, lon: -0.2130},
		{place: "Colindale", area: "Barnet", lat: 51.5960, lon: -0.2560},
		{place: "Edgware", area: "Barnet", lat: 51.6130, lon: -0.2750},
	}},
	{"A41", "A41 Finchley Rd", urban, true, []siteDef{
		{place: "Swiss Cottage", area: "Camden", lat: 51.5435, lon: -0.1745},
		{place: "Childs Hill", area: "Barnet", lat: 51.5620, lon: -0.2010},
		{place: "Hendon Central", area: "Barnet", lat: 51.5830, lon: -0.2280},
		{place: "Apex Corner", area: "Barnet", lat: 51.6160, lon: -0.2460},
	}},
	{"A10", "A10 Great Cambridge Rd", urban, true, []siteDef{
		{place: "Shoreditch", area: "Hackney", lat: 51.5255, lon: -0.0775},
		{place: "Dalston", area: "Hackney", lat: 51.5465, lon: -0.0755},
		{place: "Stoke Newington", area: "Hackney", lat: 51.5620, lon: -0.0735},
		{place: "Stamford Hill", area: "Hackney", lat: 51.5720, lon: -0.0725},
		{place: "Tottenham", area: "Haringey", lat: 51.5890, lon: -0.0710},
		{place: "White Hart Lane", area: "Haringey", lat: 51.6040, lon: -0.0790},
		{place: "Bush Hill Park", area: "Enfield", lat: 51.6395, lon: -0.0720},
		{place: "Enfield Town", area: "Enfield", lat: 51.6580, lon: -0.0610},
		{place: "Bullsmoor", area: "Enfield", lat: 51.6820, lon: -0.0560},
	}},
	{"M11", "M11", motorway, true, []siteDef{
		{place: "South Woodford", area: "Redbridge", lat: 51.6060, lon: 0.0360},
		{place: "Woodford Bridge", area: "Redbridge", lat: 51.6200, lon: 0.0480},
		{place: "Loughton J5", area: "Epping Forest", lat: 51.6470, lon: 0.0720},
	}},
	{"A12", "A12 Eastern Ave", trunk, true, []siteDef{
		{place: "Bow Interchange", area: "Tower Hamlets", lat: 51.5290, lon: -0.0170},
		{place: "Leyton", area: "Waltham Forest", lat: 51.5590, lon: 0.0000},
		{place: "Green Man", area: "Waltham Forest", lat: 51.5710, lon: 0.0180},
		{place: "Gants Hill", area: "Redbridge", lat: 51.5765, lon: 0.0680},
		{place: "Newbury Park", area: "Redbridge", lat: 51.5755, lon: 0.0900},
		{place: "Moby Dick", area: "Havering", lat: 51.5800, lon: 0.1380},
		{place: "Gallows Corner", area: "Havering", lat: 51.5935, lon: 0.2100},
		{place: "Brook Street", area: "Brentwood", lat: 51.6075, lon: 0.2700},
	}},
	{"A11", "A11 Mile End Rd", urban, true, []siteDef{
		{place: "Aldgate", area: "City of London", lat: 51.5140, lon: -0.0755},
		{place: "Whitechapel", area: "Tower Hamlets", lat: 51.5190, lon: -0.0600},
		{place: "Mile End", area: "Tower Hamlets", lat: 51.5250, lon: -0.0330},
		{place: "Stratford", area: "Newham", lat: 51.5390, lon: -0.0020},
	}},
	{"A13", "A13 Commercial Rd", trunk, true, []siteDef{
		{place: "Limehouse", area: "Tower Hamlets", lat: 51.5120, lon: -0.0360},
		{place: "Canning Town", area: "Newham", lat: 51.5135, lon: 0.0120},
		{place: "Newham Way", area: "Newham", lat: 51.5165, lon: 0.0450},
		{place: "Beckton", area: "Newham", lat: 51.5205, lon: 0.0640},
		{place: "Movers Lane", area: "Barking and Dagenham", lat: 51.5310, lon: 0.0960},
		{place: "Chequers Corner", area: "Barking and Dagenham", lat: 51.5315, lon: 0.1300},
		{place: "Rainham", area: "Havering", lat: 51.5170, lon: 0.1920},
		{place: "Wennington", area: "Havering", lat: 51.5050, lon: 0.2400},
	}},
	{"A102", "A102 Blackwall Tunnel Approach", trunk, true, []siteDef{
		{place: "Blackwall Tunnel North", area: "Tower Hamlets", lat: 51.5080, lon: -0.0040},
		{place: "Blackwall Tunnel South", area: "Greenwich", lat: 51.4960, lon: 0.0070},
		{place: "Sun in the Sands", area: "Greenwich", lat: 51.4705, lon: 0.0200},
	}},
	{"A2", "A2 Rochester Way", trunk, true, []siteDef{
		{place: "Bricklayers Arms", area: "Southwark", lat: 51.4945, lon: -0.0830},
		{place: "Old Kent Rd", area: "Southwark", lat: 51.4825, lon: -0.0610},
		{place: "New Cross Gate", area: "Lewisham", lat: 51.4755, lon: -0.0400},
		{place: "Blackheath Hill", area: "Greenwich", lat: 51.4715, lon: -0.0110},
		{place: "Kidbrooke", area: "Greenwich", lat: 51.4620, lon: 0.0300},
		{place: "Falconwood", area: "Bexley", lat: 51.4575, lon: 0.0800},
		{place: "Black Prince Interchange", area: "Bexley", lat: 51.4450, lon: 0.1300},
		{place: "Dartford Heath", area: "Bexley", lat: 51.4345, lon: 0.1800},
	}},
	{"A20", "A20 Sidcup Rd", trunk, true, []siteDef{
		{place: "Lewisham Way", area: "Lewisham", lat: 51.4700, lon: -0.0250},
		{place: "Lee Green", area: "Lewisham", lat: 51.4555, lon: 0.0135},
		{place: "Mottingham", area: "Greenwich", lat: 51.4400, lon: 0.0500},
		{place: "Sidcup", area: "Bexley", lat: 51.4255, lon: 0.0950},
		{place: "Swanley Interchange", area: "Sevenoaks", lat: 51.3990, lon: 0.1650},
	}},
	{"A21", "A21 Bromley Rd", urban, true, []siteDef{
		{place: "Lewisham", area: "Lewisham", lat: 51.4590, lon: -0.0130},
		{place: "Bellingham", area: "Lewisham", lat: 51.4320, lon: -0.0190},
		{place: "Bromley Hill", area: "Bromley", lat: 51.4150, lon: 0.0100},
		{place: "Bromley Common", area: "Bromley", lat: 51.3830, lon: 0.0290},
		{place: "Farnborough", area: "Bromley", lat: 51.3600, lon: 0.0620},
	}},
	{"A232", "A232 Croydon Rd", urban, true, []siteDef{
		{place: "Croydon", area: "Croydon", lat: 51.3760, lon: -0.0980},
		{place: "West Wickham", area: "Bromley", lat: 51.3710, lon: -0.0100},
		{place: "Orpington", area: "Bromley", lat: 51.3760, lon: 0.0980},
	}},
	{"A23", "A23 Brixton Rd", urban, true, []siteDef{
		{place: "Kennington", area: "Lambeth", lat: 51.4800, lon: -0.1125},
		{place: "Brixton", area: "Lambeth", lat: 51.4625, lon: -0.1145},
		{place: "Streatham Hill", area: "Lambeth", lat: 51.4380, lon: -0.1270},
		{place: "Streatham", area: "Lambeth", lat: 51.4265, lon: -0.1310},
		{place: "Norbury", area: "Croydon", lat: 51.4110, lon: -0.1210},
		{place: "Thornton Heath", area: "Croydon", lat: 51.3920, lon: -0.1190},
		{place: "Purley Way", area: "Croydon", lat: 51.3700, lon: -0.1160},
		{place: "Purley Cross", area: "Croydon", lat: 51.3385, lon: -0.1160},
		{place: "Coulsdon", area: "Croydon", lat: 51.3185, lon: -0.1390},
	}},
	{"A24", "A24 Balham High Rd", urban, true, []siteDef{
		{place: "Clapham High St", area: "Lambeth", lat: 51.4650, lon: -0.1320},
		{place: "Balham", area: "Wandsworth", lat: 51.4430, lon: -0.1525},
		{place: "Tooting Broadway", area: "Wandsworth", lat: 51.4275, lon: -0.1680},
		{place: "Colliers Wood", area: "Merton", lat: 51.4180, lon: -0.1780},
		{place: "Morden", area: "Merton", lat: 51.4020, lon: -0.1950},
		{place: "Stonecot Hill", area: "Sutton", lat: 51.3860, lon: -0.2150},
		{place: "Ewell Bypass", area: "Epsom and Ewell", lat: 51.3500, lon: -0.2450},
	}},
	{"A3", "A3 Kingston Bypass", trunk, true, []siteDef{
		{place: "Elephant and Castle", area: "Southwark", lat: 51.4950, lon: -0.1000},
		{place: "Kennington Park Rd", area: "Lambeth", lat: 51.4850, lon: -0.1080},
		{place: "Clapham South", area: "Lambeth", lat: 51.4520, lon: -0.1480},
		{place: "Wandsworth", area: "Wandsworth", lat: 51.4570, lon: -0.1920},
		{place: "Tibbet's Corner", area: "Wandsworth", lat: 51.4445, lon: -0.2195},
		{place: "Robin Hood Gate", area: "Kingston upon Thames", lat: 51.4255, lon: -0.2600},
		{place: "New Malden", area: "Kingston upon Thames", lat: 51.4040, lon: -0.2600},
		{place: "Tolworth", area: "Kingston upon Thames", lat: 51.3790, lon: -0.2810},
		{place: "Hook", area: "Kingston upon Thames", lat: 51.3680, lon: -0.3010},
	}},
	{"A316", "A316 Great Chertsey Rd", trunk, true, []siteDef{
		{place: "Chiswick Bridge", area: "Richmond upon Thames", lat: 51.4700, lon: -0.2690},
		{place: "Richmond Circus", area: "Richmond upon Thames", lat: 51.4640, lon: -0.2990},
		{place: "Twickenham", area: "Richmond upon Thames", lat: 51.4520, lon: -0.3350},
		{place: "Hanworth", area: "Hounslow", lat: 51.4330, lon: -0.3850},
		{place: "Sunbury Cross", area: "Spelthorne", lat: 51.4150, lon: -0.4110},
	}},
	{"A30", "A30 Great South West Rd", trunk, true, []siteDef{
		{place: "Hounslow", area: "Hounslow", lat: 51.4720, lon: -0.3800},
		{place: "Hatton Cross", area: "Hounslow", lat: 51.4665, lon: -0.4230},
		{place: "Bedfont", area: "Hounslow", lat: 51.4540, lon: -0.4420},
		{place: "Crooked Billet Staines", area: "Spelthorne", lat: 51.4380, lon: -0.4950},
	}},
	{"A4B", "A4 Bath Rd", urban, true, []siteDef{
		{place: "Colnbrook Bypass", area: "Slough", lat: 51.4790, lon: -0.5000},
		{place: "Heathrow Tunnel Approach", area: "Hillingdon", lat: 51.4805, lon: -0.4540},
		{place: "Harlington Corner", area: "Hillingdon", lat: 51.4810, lon: -0.4280},
		{place: "Cranford", area: "Hounslow", lat: 51.4810, lon: -0.4050},
	}},
	{"A312", "A312 The Parkway", urban, true, []siteDef{
		{place: "Hayes Bypass", area: "Hillingdon", lat: 51.5050, lon: -0.3980},
		{place: "Northolt Rd", area: "Ealing", lat: 51.5480, lon: -0.3830},
		{place: "South Harrow", area: "Harrow", lat: 51.5640, lon: -0.3520},
	}},
	{"A4020", "A4020 Uxbridge Rd", urban, true, []siteDef{
		{place: "Uxbridge", area: "Hillingdon", lat: 51.5460, lon: -0.4780},
		{place: "Southall", area: "Ealing", lat: 51.5110, lon: -0.3770},
		{place: "Ealing Broadway", area: "Ealing", lat: 51.5130, lon: -0.3020},
		{place: "Acton", area: "Ealing", lat: 51.5075, lon: -0.2700},
		{place: "Shepherd's Bush", area: "Hammersmith and Fulham", lat: 51.5045, lon: -0.2200},
	}},
	{"A404", "A404 Harrow Rd", urban, true, []siteDef{
		{place: "Kensal Green", area: "Brent", lat: 51.5300, lon: -0.2230},
		{place: "Harlesden", area: "Brent", lat: 51.5370, lon: -0.2550},
		{place: "Wembley", area: "Brent", lat: 51.5540, lon: -0.2900},
		{place: "Sudbury", area: "Brent", lat: 51.5570, lon: -0.3150},
		{place: "Harrow on the Hill", area: "Harrow", lat: 51.5720, lon: -0.3330},
	}},
	{"A104", "A104 Lea Bridge Rd", urban, true, []siteDef{
		{place: "Clapton", area: "Hackney", lat: 51.5590, lon: -0.0560},
		{place: "Lea Bridge", area: "Waltham Forest", lat: 51.5650, lon: -0.0350},
		{place: "Whipps Cross", area: "Waltham Forest", lat: 51.5775, lon: 0.0030},
		{place: "Woodford Green", area: "Redbridge", lat: 51.6080, lon: 0.0240},
	}},
	{"A127", "A127 Southend Arterial Rd", trunk, true, []siteDef{
		{place: "Ardleigh Green", area: "Havering", lat: 51.5870, lon: 0.2300},
		{place: "Upminster", area: "Havering", lat: 51.5880, lon: 0.2880},
	}},
	{"A118", "A118 Romford Rd", urban, true, []siteDef{
		{place: "Forest Gate", area: "Newham", lat: 51.5480, lon: 0.0250},
		{place: "Ilford", area: "Redbridge", lat: 51.5590, lon: 0.0740},
		{place: "Seven Kings", area: "Redbridge", lat: 51.5640, lon: 0.0980},
		{place: "Chadwell Heath", area: "Barking and Dagenham", lat: 51.5700, lon: 0.1300},
		{place: "Romford", area: "Havering", lat: 51.5770, lon: 0.1760},
	}},
	// Central London points on the inner cordon: one camera each, reading traffic heading in.
	{"CZ", "", central, false, []siteDef{
		{place: "Vauxhall Bridge", area: "Lambeth", lat: 51.4880, lon: -0.1270, road: "A202 Vauxhall Bridge Rd", bearing: 350},
		{place: "Westminster Bridge", area: "Westminster", lat: 51.5008, lon: -0.1220, road: "A302 Westminster Bridge Rd", bearing: 270},
		{place: "Waterloo Bridge", area: "Westminster", lat: 51.5087, lon: -0.1167, road: "A301 Waterloo Bridge", bearing: 345},
		{place: "Blackfriars Bridge", area: "City of London", lat: 51.5095, lon: -0.1045, road: "A201 Blackfriars Bridge", bearing: 0},
		{place: "London Bridge", area: "City of London", lat: 51.5079, lon: -0.0877, road: "A3 London Bridge", bearing: 5},
		{place: "Tower Bridge", area: "Southwark", lat: 51.5055, lon: -0.0754, road: "A100 Tower Bridge Rd", bearing: 0},
		{place: "Old Street", area: "Islington", lat: 51.5256, lon: -0.0875, road: "A501 City Rd", bearing: 225},
		{place: "King's Cross", area: "Camden", lat: 51.5305, lon: -0.1240, road: "A501 Euston Rd", bearing: 190},
		{place: "Euston", area: "Camden", lat: 51.5270, lon: -0.1330, road: "A501 Euston Rd", bearing: 170},
		{place: "Marble Arch", area: "Westminster", lat: 51.5125, lon: -0.1590, road: "A4202 Park Lane", bearing: 120},
		{place: "Edgware Rd", area: "Westminster", lat: 51.5180, lon: -0.1650, road: "A5 Edgware Rd", bearing: 140},
		{place: "Temple", area: "Westminster", lat: 51.5110, lon: -0.1130, road: "A3211 Victoria Embankment", bearing: 240},
		{place: "Trafalgar Square", area: "Westminster", lat: 51.5080, lon: -0.1275, road: "A4 Strand", bearing: 250},
		{place: "Piccadilly", area: "Westminster", lat: 51.5070, lon: -0.1420, road: "A4 Piccadilly", bearing: 60},
		{place: "Chelsea Embankment", area: "Kensington and Chelsea", lat: 51.4835, lon: -0.1670, road: "A3212 Chelsea Embankment", bearing: 60},
		{place: "Kensington High St", area: "Kensington and Chelsea", lat: 51.5010, lon: -0.1920, road: "A315 Kensington High St", bearing: 80},
		{place: "Notting Hill Gate", area: "Kensington and Chelsea", lat: 51.5090, lon: -0.1960, road: "A402 Bayswater Rd", bearing: 90},
		{place: "Camden Town", area: "Camden", lat: 51.5390, lon: -0.1426, road: "A400 Camden High St", bearing: 170},
		{place: "Bank", area: "City of London", lat: 51.5133, lon: -0.0890, road: "A10 Threadneedle St", bearing: 260},
		{place: "Holborn", area: "Camden", lat: 51.5175, lon: -0.1200, road: "A40 High Holborn", bearing: 250},
		{place: "Victoria", area: "Westminster", lat: 51.4965, lon: -0.1440, road: "A302 Victoria St", bearing: 60},
	}},
}
