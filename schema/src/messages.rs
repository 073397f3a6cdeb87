//! Error messages in the request's language. The domain writes them in English (they double as
//! log text and as the catalog's keys, like gettext's msgids); the api translates what reaches a
//! client, once, after execution. `extensions.code` and `extensions.field` never change. A
//! number in a message ("at most 200 characters") is a parameter: the key holds `{n}`. A
//! message missing here reaches the client in English.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::i18n::Locale;

/// English, Kazakh, Russian.
const CATALOG: &[(&str, &str, &str)] = &[
    // Accounts and sessions.
    ("sign in first", "алдымен жүйеге кіріңіз", "сначала войдите"),
    (
        "wrong email or password",
        "email немесе құпиясөз қате",
        "неверный email или пароль",
    ),
    (
        "is already registered; sign in instead",
        "бұрын тіркелген; оның орнына жүйеге кіріңіз",
        "уже зарегистрирован; войдите вместо этого",
    ),
    (
        "no account has this email address",
        "бұл email мекенжайымен тіркелгі жоқ",
        "нет учётной записи с этим адресом",
    ),
    (
        "is not a valid email address",
        "дұрыс email мекенжайы емес",
        "не является корректным адресом email",
    ),
    (
        "is required to change the password",
        "құпиясөзді өзгерту үшін қажет",
        "нужен, чтобы сменить пароль",
    ),
    ("is wrong", "қате", "неверен"),
    (
        "must be at least {n} characters",
        "кемінде {n} таңба болуы керек",
        "должен содержать не менее {n} символов",
    ),
    (
        "verify your email address first",
        "алдымен email мекенжайыңызды растаңыз",
        "сначала подтвердите адрес email",
    ),
    (
        "verify your email address before creating an organization",
        "ұйым құрмас бұрын email мекенжайыңызды растаңыз",
        "подтвердите адрес email, прежде чем создавать организацию",
    ),
    (
        "this link is invalid",
        "бұл сілтеме жарамсыз",
        "эта ссылка недействительна",
    ),
    (
        "this link is invalid or has expired",
        "бұл сілтеме жарамсыз немесе мерзімі өткен",
        "эта ссылка недействительна или устарела",
    ),
    (
        "this link is invalid, used or expired",
        "бұл сілтеме жарамсыз, пайдаланылған немесе мерзімі өткен",
        "эта ссылка недействительна, уже использована или устарела",
    ),
    ("invalid", "жарамсыз", "недействителен"),
    (
        "admins only",
        "тек әкімшілерге",
        "только для администраторов",
    ),
    (
        "too many requests; try again in {n} s",
        "сұраулар тым көп; {n} секундтан кейін қайталаңыз",
        "слишком много запросов; повторите через {n} с",
    ),
    // Shared validation.
    (
        "must be at most {n} characters",
        "{n} таңбадан аспауы керек",
        "должно быть не длиннее {n} символов",
    ),
    (
        "must be at most {n}",
        "{n}-ден аспауы керек",
        "должно быть не больше {n}",
    ),
    (
        "must not be empty",
        "бос болмауы керек",
        "не должно быть пустым",
    ),
    (
        "must not be negative",
        "теріс болмауы керек",
        "не должно быть отрицательным",
    ),
    (
        "must not contain control characters",
        "басқару таңбалары болмауы керек",
        "не должно содержать управляющих символов",
    ),
    (
        "needs at least one non-empty translation",
        "кемінде бір бос емес аудармасы болуы керек",
        "нужен хотя бы один непустой перевод",
    ),
    (
        "needs letters or digits",
        "әріптер немесе цифрлар керек",
        "нужны буквы или цифры",
    ),
    (
        "must be an ISO 3166-1 alpha-2 country code such as KZ",
        "KZ сияқты ISO 3166-1 alpha-2 ел коды болуы керек",
        "должно быть кодом страны ISO 3166-1 alpha-2, например KZ",
    ),
    (
        "must be an ISO 3166-1 alpha-2 code",
        "ISO 3166-1 alpha-2 коды болуы керек",
        "должно быть кодом ISO 3166-1 alpha-2",
    ),
    (
        "needs at least one country",
        "кемінде бір ел керек",
        "нужна хотя бы одна страна",
    ),
    (
        "must be an http(s) URL",
        "http(s) мекенжайы болуы керек",
        "должно быть адресом http(s)",
    ),
    (
        "must be lowercase latin letters and digits separated by single hyphens, at most 80 characters",
        "бір дефиспен бөлінген кіші латын әріптері мен цифрлар, ең көбі 80 таңба болуы керек",
        "должно состоять из строчных латинских букв и цифр, разделённых одиночными дефисами, не длиннее 80 символов",
    ),
    (
        "lower-case letters and digits separated by single hyphens",
        "бір дефиспен бөлінген кіші әріптер мен цифрлар",
        "строчные буквы и цифры, разделённые одиночными дефисами",
    ),
    ("is taken", "бос емес, басқасы алған", "уже занят"),
    ("does not exist", "жоқ", "не существует"),
    (
        "is not a valid ID",
        "жарамды ID емес",
        "не является корректным ID",
    ),
    (
        "at most {n} ids at once",
        "бір реттe ең көбі {n} ID",
        "не больше {n} ID за раз",
    ),
    (
        "is not a cursor of this list",
        "бұл тізімнің курсоры емес",
        "не является курсором этого списка",
    ),
    (
        "is a cursor of another order",
        "басқа сұрыптаудың курсоры",
        "курсор другого порядка сортировки",
    ),
    (
        "must be 1 to 200 characters",
        "1-ден 200 таңбаға дейін болуы керек",
        "должно содержать от 1 до 200 символов",
    ),
    (
        "must be 1 to 5000 characters",
        "1-ден 5000 таңбаға дейін болуы керек",
        "должно содержать от 1 до 5000 символов",
    ),
    // Places.
    (
        "is not a listed region",
        "тізімдегі өңір емес",
        "не является регионом из списка",
    ),
    (
        "is not a listed city",
        "тізімдегі қала емес",
        "не является городом из списка",
    ),
    (
        "is in another country",
        "басқа елде орналасқан",
        "находится в другой стране",
    ),
    // Organizations.
    (
        "is not an organization kind",
        "ұйым түрі емес",
        "не является видом организации",
    ),
    (
        "only the organization's managers may do this",
        "мұны тек ұйымның менеджерлері істей алады",
        "это могут делать только менеджеры организации",
    ),
    (
        "only the organization's owners may do this",
        "мұны тек ұйымның иелері істей алады",
        "это могут делать только владельцы организации",
    ),
    (
        "only admins verify organizations",
        "ұйымдарды тек әкімшілер растайды",
        "организации подтверждают только администраторы",
    ),
    (
        "only a NETWORK organization has members",
        "мүшелері тек NETWORK ұйымында болады",
        "участники бывают только у организации NETWORK",
    ),
    (
        "a network can't be its own member",
        "желі өзінің мүшесі бола алмайды",
        "сеть не может быть своим участником",
    ),
    (
        "an organization needs at least one owner",
        "ұйымның кемінде бір иесі болуы керек",
        "у организации должен быть хотя бы один владелец",
    ),
    (
        "must be OWNER or MANAGER",
        "OWNER немесе MANAGER болуы керек",
        "должно быть OWNER или MANAGER",
    ),
    // Projects and applications.
    (
        "is not a direction",
        "бағыт емес",
        "не является направлением",
    ),
    (
        "must not be before startsAt",
        "startsAt-тан бұрын болмауы керек",
        "не может быть раньше startsAt",
    ),
    (
        "must be between 1 and 100000",
        "1 мен 100000 аралығында болуы керек",
        "должно быть от 1 до 100000",
    ),
    (
        "a draft can't be archived; publish it first",
        "жобаның нобайын мұрағатқа жіберуге болмайды; алдымен жариялаңыз",
        "черновик нельзя архивировать; сначала опубликуйте его",
    ),
    (
        "only the organization's managers see its unpublished projects",
        "ұйымның жарияланбаған жобаларын тек оның менеджерлері көреді",
        "неопубликованные проекты организации видят только её менеджеры",
    ),
    (
        "unpublished projects: only admins, or managers filtering by their organizationId",
        "жарияланбаған жобалар: тек әкімшілерге немесе өз organizationId бойынша сүзетін менеджерлерге",
        "неопубликованные проекты: только администраторам или менеджерам с фильтром по своему organizationId",
    ),
    (
        "drafts: only admins, or managers filtering by their organizationId",
        "нобайлар: тек әкімшілерге немесе өз organizationId бойынша сүзетін менеджерлерге",
        "черновики: только администраторам или менеджерам с фильтром по своему organizationId",
    ),
    (
        "you have already applied to this project",
        "сіз бұл жобаға өтінім беріп қойғансыз",
        "вы уже подали заявку на этот проект",
    ),
    (
        "this project is archived and takes no applications",
        "бұл жоба мұрағатта, өтінімдер қабылданбайды",
        "этот проект в архиве и не принимает заявки",
    ),
    (
        "the volunteer has withdrawn this application",
        "волонтер бұл өтінімді кері қайтарып алды",
        "волонтёр отозвал эту заявку",
    ),
    (
        "only the volunteer may withdraw an application",
        "өтінімді тек волонтердің өзі кері қайтара алады",
        "отозвать заявку может только сам волонтёр",
    ),
    // News.
    (
        "only the organization's managers may edit its posts",
        "ұйымның жазбаларын тек оның менеджерлері өңдей алады",
        "публикации организации могут редактировать только её менеджеры",
    ),
    (
        "only admins write platform news; pass organizationId",
        "платформа жаңалықтарын тек әкімшілер жазады; organizationId көрсетіңіз",
        "новости платформы пишут только администраторы; укажите organizationId",
    ),
    // Awards.
    (
        "must be between 2000 and 2200",
        "2000 мен 2200 аралығында болуы керек",
        "должно быть от 2000 до 2200",
    ),
    (
        "must be after nominationOpensAt",
        "nominationOpensAt-тан кейін болуы керек",
        "должно быть позже nominationOpensAt",
    ),
    (
        "must not be before nominationClosesAt",
        "nominationClosesAt-тан бұрын болмауы керек",
        "не может быть раньше nominationClosesAt",
    ),
    (
        "must be after votingOpensAt",
        "votingOpensAt-тан кейін болуы керек",
        "должно быть позже votingOpensAt",
    ),
    (
        "is not among the award's countries",
        "сыйлық елдерінің қатарында жоқ",
        "не входит в страны премии",
    ),
    (
        "this nominee is already nominated in this category",
        "бұл үміткер осы санатта ұсынылып қойған",
        "этот номинант уже выдвинут в этой категории",
    ),
    (
        "same nominee twice",
        "бір үміткер екі рет",
        "один и тот же номинант дважды",
    ),
    (
        "the category has nominations",
        "санатта ұсыныстар бар",
        "в категории есть номинации",
    ),
    (
        "the nomination was withdrawn",
        "ұсыныс кері қайтарылды",
        "номинация отозвана",
    ),
    (
        "a rejected nomination can't be withdrawn",
        "қабылданбаған ұсынысты кері қайтаруға болмайды",
        "отклонённую номинацию нельзя отозвать",
    ),
    (
        "only the submitter may withdraw a nomination",
        "ұсынысты тек оны жіберген адам кері қайтара алады",
        "отозвать номинацию может только её автор",
    ),
    (
        "only admins see nominations that are not approved",
        "мақұлданбаған ұсыныстарды тек әкімшілер көреді",
        "неодобренные номинации видят только администраторы",
    ),
    (
        "only approved nominations can receive votes",
        "дауысты тек мақұлданған ұсыныстар ала алады",
        "голоса можно отдавать только за одобренные номинации",
    ),
    (
        "voting is not open",
        "дауыс беру ашық емес",
        "голосование не открыто",
    ),
    (
        "the vote changed concurrently; try again",
        "дауыс қатар өзгерді; қайталап көріңіз",
        "голос изменился одновременно; попробуйте ещё раз",
    ),
    (
        "vote counts of this award are not public",
        "бұл сыйлықтың дауыс сандары жария емес",
        "число голосов этой премии не публикуется",
    ),
    (
        "MOST_VOTES is available once counts are public",
        "MOST_VOTES дауыс сандары жарияланғанда қолжетімді",
        "MOST_VOTES доступен, когда число голосов публикуется",
    ),
    (
        "a digest run for this period exists",
        "бұл кезеңге шолу жіберілген",
        "дайджест за этот период уже есть",
    ),
    // Added with awards rules, juries and results.
    (
        "this link is from an older email and no longer works; use the link in a recent email",
        "бұл сілтеме ескі хаттан, енді жұмыс істемейді; соңғы хаттағы сілтемені пайдаланыңыз",
        "эта ссылка из старого письма и больше не работает; воспользуйтесь ссылкой из недавнего письма",
    ),
    (
        "the award has nominations",
        "сыйлыққа ұсыныстар бар",
        "у премии есть номинации",
    ),
    (
        "must be between 0 and 1",
        "0 мен 1 аралығында болуы керек",
        "должно быть от 0 до 1",
    ),
    (
        "needs 1 to 100 values",
        "1-ден 100-ге дейін мән қажет",
        "нужно от 1 до 100 значений",
    ),
    (
        "values must not be negative and the first must be above 0",
        "мәндер теріс болмауы керек, ал біріншісі 0-ден үлкен болуы керек",
        "значения не должны быть отрицательными, а первое должно быть больше 0",
    ),
    (
        "must not rise: a better rank never earns fewer points",
        "өспеуі керек: жоғары орын ешқашан аз ұпай алмайды",
        "не должны расти: более высокое место не может получать меньше баллов",
    ),
    (
        "RANK_POINTS needs rank points, e.g. [5, 4, 3, 2, 1]",
        "RANK_POINTS үшін орын ұпайлары қажет, мысалы [5, 4, 3, 2, 1]",
        "для RANK_POINTS нужны баллы за места, например [5, 4, 3, 2, 1]",
    ),
    (
        "only RANK_POINTS takes rank points",
        "орын ұпайларын тек RANK_POINTS қабылдайды",
        "баллы за места принимает только RANK_POINTS",
    ),
    (
        "this project has ended and takes no applications",
        "бұл жоба аяқталды, өтінімдер қабылданбайды",
        "этот проект завершён и не принимает заявки",
    ),
    (
        "must be above 0 and at most 1000",
        "0-ден үлкен және 1000-нан аспауы керек",
        "должно быть больше 0 и не больше 1000",
    ),
    (
        "must be between 1 and 100",
        "1 мен 100 аралығында болуы керек",
        "должно быть от 1 до 100",
    ),
    (
        "every category must be one of this award's",
        "әр санат осы сыйлықтікі болуы керек",
        "каждая категория должна принадлежать этой премии",
    ),
    (
        "must be 1 to 2000 characters",
        "1-ден 2000 таңбаға дейін болуы керек",
        "должно содержать от 1 до 2000 символов",
    ),
    (
        "only the award's jurors may do this",
        "мұны тек сыйлық қазылар алқасының мүшелері жасай алады",
        "это могут делать только члены жюри премии",
    ),
    (
        "this nomination is not among your assignments",
        "бұл ұсыныс сізге тапсырылғандардың қатарында жоқ",
        "этой номинации нет среди назначенных вам",
    ),
    (
        "this address is already invited to the award's jury",
        "бұл мекенжай сыйлық қазылар алқасына бұрын шақырылған",
        "этот адрес уже приглашён в жюри премии",
    ),
    (
        "you declared a conflict of interest for this nomination",
        "сіз бұл ұсыныс бойынша мүдделер қақтығысын мәлімдедіңіз",
        "вы заявили о конфликте интересов по этой номинации",
    ),
    (
        "results can be frozen once voting has closed",
        "нәтижелерді дауыс беру жабылғаннан кейін ғана бекітуге болады",
        "результаты можно зафиксировать только после закрытия голосования",
    ),
    // Vote integrity.
    ("is required", "міндетті", "обязателен"),
    (
        "the results are frozen; quarantines can no longer change",
        "нәтижелер бекітілді; карантинді енді өзгерту мүмкін емес",
        "результаты зафиксированы; карантин больше нельзя изменить",
    ),
];

/// What `Error::NotFound` names, for "… not found".
const THINGS: &[(&str, &str, &str)] = &[
    ("project", "жоба", "проект"),
    ("post", "жазба", "публикация"),
    ("organization", "ұйым", "организация"),
    ("user", "пайдаланушы", "пользователь"),
    ("award", "сыйлық", "премия"),
    ("award category", "сыйлық санаты", "категория премии"),
    ("nomination", "ұсыныс", "номинация"),
    ("application", "өтінім", "заявка"),
    ("subscription", "жазылым", "подписка"),
    ("manager", "менеджер", "менеджер"),
    ("judging criterion", "бағалау өлшемі", "критерий оценки"),
    ("juror", "қазылар алқасының мүшесі", "член жюри"),
];

static BY_KEY: LazyLock<HashMap<&'static str, (&'static str, &'static str)>> =
    LazyLock::new(|| {
        CATALOG
            .iter()
            .map(|(en, kk, ru)| (*en, (*kk, *ru)))
            .collect()
    });

fn pick<'a>(locale: Locale, kk: &'a str, ru: &'a str) -> &'a str {
    match locale {
        Locale::Kk => kk,
        _ => ru,
    }
}

/// `message` in `locale`; English, and any message not in the catalog, stays as it is.
pub fn translate(message: &str, locale: Locale) -> Option<String> {
    if locale == Locale::En {
        return None;
    }
    if let Some(thing) = message.strip_suffix(" not found")
        && let Some((_, kk, ru)) = THINGS.iter().find(|(en, _, _)| *en == thing)
    {
        return Some(match locale {
            Locale::Kk => format!("{kk} табылмады"),
            _ => format!("{} не найден{}", capitalized(ru), ru_ending(ru)),
        });
    }
    // One number at most is a parameter.
    let start = message.find(|c: char| c.is_ascii_digit());
    let (key, number) = match start {
        Some(s) => {
            let len = message[s..]
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(message.len() - s);
            let number = &message[s..s + len];
            (
                format!("{}{{n}}{}", &message[..s], &message[s + len..]),
                Some(number),
            )
        }
        None => (message.to_owned(), None),
    };
    let found = BY_KEY
        .get(key.as_str())
        .or_else(|| BY_KEY.get(message))
        .map(|(kk, ru)| pick(locale, kk, ru))?;
    Some(match (BY_KEY.contains_key(key.as_str()), number) {
        (true, Some(n)) => found.replace("{n}", n),
        _ => found.to_owned(),
    })
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Russian agreement of "не найден" with the noun's gender.
fn ru_ending(noun: &str) -> &'static str {
    let last = noun.split(' ').next().unwrap_or(noun);
    if last.ends_with('а') || last.ends_with('я') {
        "а"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_translate_with_their_numbers() {
        assert_eq!(
            translate("must be at most 200 characters", Locale::Ru).as_deref(),
            Some("должно быть не длиннее 200 символов")
        );
        assert_eq!(
            translate("must be at most 200 characters", Locale::Kk).as_deref(),
            Some("200 таңбадан аспауы керек")
        );
        assert_eq!(
            translate("must be between 1 and 100000", Locale::Ru).as_deref(),
            Some("должно быть от 1 до 100000")
        );
        assert_eq!(
            translate("award category not found", Locale::Ru).as_deref(),
            Some("Категория премии не найдена")
        );
        assert_eq!(
            translate("project not found", Locale::Kk).as_deref(),
            Some("жоба табылмады")
        );
        assert_eq!(translate("sign in first", Locale::En), None);
        assert_eq!(translate("something new", Locale::Ru), None);
    }

    /// Every literal message the domain gives a client is in the catalog.
    #[test]
    fn the_catalog_covers_the_domain_messages() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut missing = Vec::new();
        let mut paths: Vec<std::path::PathBuf> = Vec::new();
        let mut dirs = vec![std::path::PathBuf::from(dir)];
        while let Some(d) = dirs.pop() {
            for entry in std::fs::read_dir(d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    paths.push(path);
                }
            }
        }
        for path in paths {
            if path.ends_with("messages.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for call in [
                "Error::bad_input(",
                "Error::forbidden(",
                "Error::Conflict(",
                "Error::PhaseClosed(",
            ] {
                for (i, _) in text.match_indices(call) {
                    let rest = &text[i + call.len()..];
                    let args = &rest[..rest.find(')').unwrap_or(rest.len())];
                    // The message is the last string literal of the call.
                    let Some(end) = args.rfind('"') else { continue };
                    let Some(start) = args[..end].rfind('"') else {
                        continue;
                    };
                    let message = &args[start + 1..end];
                    if message.contains('{') || message.is_empty() {
                        continue;
                    }
                    if args[..start].trim_end().ends_with("format!(") {
                        continue;
                    }
                    if translate(message, Locale::Ru).is_none()
                        && !message
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '.')
                    {
                        missing.push(format!("{}: {message}", path.display()));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "not translated: {missing:#?}");
    }
}
