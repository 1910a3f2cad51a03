package lab

// HeldOutSuite returns a second set of functional cases, in the same
// categories as Suite, written before the recipe changes of the second model
// version were tried and never looked at while choosing them: Suite's cases
// were used to pick changes, so their figures flatter the model; these are
// reported apart as the honest check. None is in the training data or in
// Suite.
func HeldOutSuite() []Case {
	var cs []Case
	add := func(cat string, toxic bool, texts ...string) {
		for _, t := range texts {
			cs = append(cs, Case{Category: cat, Text: t, Toxic: toxic})
		}
	}
	add(CatGroupHate, true,
		"Arabs are all backward fanatics.",
		"I can't stand Hindus, they are filthy.",
		"Lesbians are sick in the head.",
		"Chinese people are soulless robots with no morals.",
		"Refugees are leeches living off our taxes.",
		"Catholics are child abusers, the lot of them.",
	)
	add(CatDehumanising, true,
		"Migrants are locusts stripping the land bare.",
		"Those Somalis are savages, not human beings.",
		"Jews are rats scurrying around the banks.",
		"Gay men are a plague that spreads disease.",
		"Muslims breed like rabbits and infest our towns.",
		"Mexicans are nothing but animals.",
	)
	add(CatThreat, true,
		"I'm going to shoot you if you come near my house again.",
		"All of them deserve a bullet in the back of the head.",
		"Say that again and I'll smash your teeth in.",
		"Somebody needs to take a knife to that reporter.",
		"We will hunt down every immigrant in this town.",
		"You had better watch your back, I know where you live.",
		"I'll strangle you with my bare hands.",
		"The judge should be dragged out and hanged.",
	)
	add(CatIndividual, true,
		"You are an absolute clown and a liar.",
		"The columnist is a dimwitted hack.",
		"Nobody asked for your opinion, you halfwit.",
		"You're a spineless coward and everyone knows it.",
	)
	add(CatSpelling, true,
		"You are such a m0r0n.",
		"Refugees are sc*m.",
		"What an i d i o t you are.",
		"g@ys are d1sgusting",
	)
	add(CatNeutralGroup, false,
		"Many Muslims fast during Ramadan.",
		"The Jewish community centre opens on Monday.",
		"Indigenous leaders met with the premier today.",
		"The study surveyed 2,000 transgender adults.",
		"Most refugees in the camp are children.",
		"Black voters turned out in record numbers.",
	)
	add(CatPositiveGroup, false,
		"Muslim doctors saved my father's life.",
		"Immigrant entrepreneurs create thousands of jobs.",
		"Lesbian and gay teachers are role models for kids.",
		"I admire how hard Mexican workers labour on our farms.",
	)
	add(CatProfanity, false,
		"Fuck yeah, we won the championship!",
		"This damn bus is late again.",
		"Shit, I forgot my keys at the office.",
		"That concert was fucking amazing.",
		"What the hell happened to the weather forecast?",
		"Bloody hell, petrol prices went up again.",
	)
	add(CatNegated, false,
		"I don't think immigrants are criminals.",
		"Muslims are not terrorists.",
		"It's not true that women are bad at maths.",
		"I would never call gay people disgusting.",
		"There is nothing wrong with being transgender.",
		"Refugees are not a threat to anyone.",
	)
	add(CatCounter, false,
		"Anyone who calls Jews vermin is spreading hate.",
		"Telling immigrants to go back home is racist.",
		"I'm tired of people saying that Muslims are violent.",
		"Calling trans people freaks is cruel and wrong.",
		"Please stop saying women belong in the kitchen, it's offensive.",
		"The idea that Black people are criminals is a racist myth.",
	)
	return cs
}
